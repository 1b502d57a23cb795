#!/bin/sh
# Takes longer than the scenario's cgi timeout (1s): the server kills it (its whole process
# group, this sleep included) and answers 504 Gateway Timeout.
sleep 10
printf 'Content-Type: text/plain\r\n\r\ntoo late\n'
