# Man pages doorman(8) and doorman.yaml(5), generated from the Markdown in docs/man/ by
# go-md2man (Debian's go-md2man package) and installed to share/man. Off by default, so a
# developer build does not need go-md2man; the packages turn it on (DOORMAN_MANPAGES=ON).
include(GNUInstallDirs)
find_program(GO_MD2MAN go-md2man REQUIRED)

# The date in the page footer: the build's SOURCE_DATE_EPOCH when set (dpkg-buildpackage
# and rpmbuild set it, which keeps the pages reproducible), otherwise today.
string(TIMESTAMP DOORMAN_MAN_DATE "%Y-%m-%d" UTC)

set(DOORMAN_MAN_PAGES "")
foreach(page doorman.8 doorman.yaml.5)
  string(REGEX MATCH "[0-9]$" section ${page})
  string(REGEX REPLACE "\\.[0-9]$" "" name ${page})
  set(source ${CMAKE_CURRENT_SOURCE_DIR}/docs/man/${page}.md)
  set(output ${CMAKE_CURRENT_BINARY_DIR}/man/${page})
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DGO_MD2MAN=${GO_MD2MAN} -DSOURCE=${source} -DOUTPUT=${output}
            -DNAME=${name} -DSECTION=${section} -DVERSION=${PROJECT_VERSION}
            -DDATE=${DOORMAN_MAN_DATE} -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/GenerateManPage.cmake
    DEPENDS ${source} ${CMAKE_CURRENT_SOURCE_DIR}/cmake/GenerateManPage.cmake
    COMMENT "Generating man page ${page}"
    VERBATIM)
  list(APPEND DOORMAN_MAN_PAGES ${output})
  install(FILES ${output} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
add_custom_target(man_pages ALL DEPENDS ${DOORMAN_MAN_PAGES})
