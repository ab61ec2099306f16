#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace vigil {

// Error codes are coarse on purpose: callers branch on the code, humans read the message.
enum class Code {
  kOk = 0,
  kInvalidArgument,  // bad input record, bad config value
  kNotFound,
  kIo,           // file or socket failure
  kKafka,        // librdkafka reported an error
  kFenced,       // the transactional producer was fenced: this worker must stop
  kUnavailable,  // transient; retrying may help
  kInternal,
};

std::string_view code_name(Code code);

// Status is returned at every library boundary on the record path instead of throwing.
// Thread-safety: a value type; copy freely.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  bool is_ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string msg) {
  return {Code::kInvalidArgument, std::move(msg)};
}
inline Status io_error(std::string msg) {
  return {Code::kIo, std::move(msg)};
}
inline Status kafka_error(std::string msg) {
  return {Code::kKafka, std::move(msg)};
}
inline Status internal_error(std::string msg) {
  return {Code::kInternal, std::move(msg)};
}

// Result<T> holds either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!status_.is_ok());
  }

  bool is_ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace vigil

// Propagates a non-ok Status to the caller.
#define VIGIL_RETURN_IF_ERROR(expr)         \
  do {                                      \
    ::vigil::Status vigil_status_ = (expr); \
    if (!vigil_status_.is_ok()) {           \
      return vigil_status_;                 \
    }                                       \
  } while (false)
