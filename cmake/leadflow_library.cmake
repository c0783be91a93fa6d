# One helper makes every project target, so warnings-as-errors and the
# include layout are the same everywhere.
function(leadflow_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wnon-virtual-dtor -Wold-style-cast -Wno-unused-parameter)
  if(LEADFLOW_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# leadflow_library(NAME name SOURCES ... DEPS ...)
# Creates leadflow_<name> with alias leadflow::<name>; public headers live in
# <folder>/include/leadflow/<name>/.
function(leadflow_library)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  set(target leadflow_${ARG_NAME})
  add_library(${target} STATIC ${ARG_SOURCES})
  add_library(leadflow::${ARG_NAME} ALIAS ${target})
  target_include_directories(${target} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(${target} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  leadflow_warnings(${target})
endfunction()

# leadflow_executable(NAME name SOURCES ... DEPS ...)
function(leadflow_executable)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  leadflow_warnings(${ARG_NAME})
endfunction()

# leadflow_test(NAME name LABEL label SOURCES ... DEPS ...)
# Tests share one precompiled Catch2 main (leadflow_catch_main) to keep the
# build short on small machines.
function(leadflow_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SOURCES;DEPS;LABEL" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE leadflow_catch_main ${ARG_DEPS})
  if(LEADFLOW_TSAN)
    target_link_libraries(${ARG_NAME} PRIVATE leadflow_tsan_annotations)
  endif()
  leadflow_warnings(${ARG_NAME})
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABEL}" TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "LEADFLOWD=$<TARGET_FILE:leadflowd>;LEADFLOW_CLI=$<TARGET_FILE:leadflow>;LEADFLOW_DEV_BROKER=$<TARGET_FILE:leadflow-dev-broker>")
endfunction()
