# How each third-party library is found on Debian 12 (see docs/dependencies.md).
find_package(PkgConfig REQUIRED)
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
pkg_check_modules(RDKAFKAXX REQUIRED IMPORTED_TARGET rdkafka++)
pkg_check_modules(PSL REQUIRED IMPORTED_TARGET libpsl)
pkg_check_modules(IDN2 REQUIRED IMPORTED_TARGET libidn2)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(HS REQUIRED IMPORTED_TARGET libhs)

# RocksDB's config prepends its own Find modules, so everything else is found in CONFIG mode.
find_package(RocksDB CONFIG REQUIRED)
find_package(simdjson CONFIG REQUIRED)
find_package(yaml-cpp CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(ZLIB REQUIRED)
find_package(ICU REQUIRED COMPONENTS uc i18n)
find_package(Threads REQUIRED)

if(VIGIL_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
endif()
if(VIGIL_BUILD_BENCH)
  find_package(benchmark CONFIG REQUIRED)
endif()
