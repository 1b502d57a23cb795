# Writes OUTPUT: a C++ source defining `std::string_view FUNCTION()` that returns the bytes of
# INPUT. Used to build scenarios/schema.json into the program.
file(READ "${INPUT}" content)
string(FIND "${content}" ")PFEMBED\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string terminator")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by cmake/embed_text.cmake. Do not edit.\n"
  "#include <string_view>\n"
  "namespace protofarm {\n"
  "std::string_view ${FUNCTION}() {\n"
  "  static constexpr std::string_view text = R\"PFEMBED(${content})PFEMBED\";\n"
  "  return text;\n"
  "}\n"
  "}  // namespace protofarm\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
