// Boost.Asio is built once, here, instead of in every file that includes it
// (BOOST_ASIO_SEPARATE_COMPILATION): it roughly halves the build time of each session file.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
