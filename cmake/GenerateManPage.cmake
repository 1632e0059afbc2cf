# cmake -P script: one man page from docs/man/<name>.<section>.md.
# The Markdown has no title block, so that it reads well as a document of its own; the
# title line (name, section, date, version, manual) is added here, then go-md2man makes
# the roff.
foreach(var GO_MD2MAN SOURCE OUTPUT NAME SECTION VERSION DATE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "GenerateManPage.cmake: ${var} is not set")
  endif()
endforeach()

if(SECTION STREQUAL "5")
  set(manual "File Formats")
else()
  set(manual "System Administration")
endif()
string(TOUPPER "${NAME}" title)

file(READ ${SOURCE} body)
get_filename_component(dir ${OUTPUT} DIRECTORY)
file(MAKE_DIRECTORY ${dir})
set(titled ${OUTPUT}.md)
file(WRITE ${titled} "% ${title} ${SECTION} \"${DATE}\" \"doorman ${VERSION}\" \"${manual}\"\n\n${body}")
execute_process(COMMAND ${GO_MD2MAN} -in ${titled} -out ${OUTPUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "go-md2man failed on ${SOURCE} (exit ${rc})")
endif()
