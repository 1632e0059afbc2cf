# Every dependency is a Debian 12 package; `scripts/install-deps` installs them.
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv)
find_package(yaml-cpp REQUIRED)

# llhttp: Debian's node-llhttp ships the generated C sources, not a library.
set(LLHTTP_SOURCE_DIR /usr/share/llhttp CACHE PATH "Directory holding llhttp's api.c, http.c, llhttp.c")
set(LLHTTP_INCLUDE_DIR /usr/share/include/llhttp CACHE PATH "Directory holding llhttp.h")
foreach(f api.c http.c llhttp.c)
  if(NOT EXISTS ${LLHTTP_SOURCE_DIR}/${f})
    message(FATAL_ERROR "llhttp source ${LLHTTP_SOURCE_DIR}/${f} not found: install Debian's node-llhttp package (scripts/install-deps does)")
  endif()
endforeach()
if(NOT EXISTS ${LLHTTP_INCLUDE_DIR}/llhttp.h)
  message(FATAL_ERROR "llhttp.h not found in ${LLHTTP_INCLUDE_DIR}: install Debian's node-llhttp package")
endif()
add_library(doorman_llhttp STATIC ${LLHTTP_SOURCE_DIR}/api.c ${LLHTTP_SOURCE_DIR}/http.c ${LLHTTP_SOURCE_DIR}/llhttp.c)
target_include_directories(doorman_llhttp SYSTEM PUBLIC ${LLHTTP_INCLUDE_DIR})
set_target_properties(doorman_llhttp PROPERTIES C_STANDARD 99 POSITION_INDEPENDENT_CODE ON)
# Generated code: not ours to fix warnings in.
target_compile_options(doorman_llhttp PRIVATE -w)
