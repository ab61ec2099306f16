#pragma once

#include <string>

namespace vigil::testing {

// HTTP/1.1 GET of http://127.0.0.1:<port><path>: the whole response (status line, headers,
// body), or "" when nothing listens. For tests of the operators' endpoints.
std::string http_get(int port, const std::string& path);

}  // namespace vigil::testing
