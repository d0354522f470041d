# Finds standalone asio (Debian's libasio-dev), which is header-only and ships no CMake or pkg-config file.
# Provides the imported target asio::asio and Asio_VERSION.
find_path(Asio_INCLUDE_DIR NAMES asio.hpp)

if(Asio_INCLUDE_DIR AND EXISTS "${Asio_INCLUDE_DIR}/asio/version.hpp")
    # ASIO_VERSION is XXYYZZ: major * 100000 + minor * 100 + patch.
    file(STRINGS "${Asio_INCLUDE_DIR}/asio/version.hpp" _asio_version_line REGEX "^#define ASIO_VERSION [0-9]+")
    string(REGEX REPLACE "^#define ASIO_VERSION ([0-9]+).*" "\\1" _asio_version "${_asio_version_line}")
    math(EXPR _asio_major "${_asio_version} / 100000")
    math(EXPR _asio_minor "${_asio_version} / 100 % 1000")
    math(EXPR _asio_patch "${_asio_version} % 100")
    set(Asio_VERSION "${_asio_major}.${_asio_minor}.${_asio_patch}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Asio REQUIRED_VARS Asio_INCLUDE_DIR VERSION_VAR Asio_VERSION)

if(Asio_FOUND AND NOT TARGET asio::asio)
    add_library(asio::asio INTERFACE IMPORTED)
    set_target_properties(asio::asio PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${Asio_INCLUDE_DIR}")
    target_compile_definitions(asio::asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
    target_link_libraries(asio::asio INTERFACE Threads::Threads)
endif()
mark_as_advanced(Asio_INCLUDE_DIR)
