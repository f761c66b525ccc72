// Status and Result<T>: the one error type of Nacre.
//
// Every fallible function returns Status (or Result<T> when it also yields a
// value). Exceptions never cross a module border. Codes map one-to-one onto
// errno values because operators read them (the CLI exits with them, as Ceph's
// does) and because they travel on the wire as plain integers.
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace nacre {

enum class Code : int {
  kOk = 0,
  kPermission = EPERM,     // refused by auth or caps
  kNotFound = ENOENT,
  kIO = EIO,               // device or socket failure
  kAgain = EAGAIN,         // transient: retry later (no quorum, PG peering)
  kExists = EEXIST,
  kInvalid = EINVAL,       // bad argument or malformed input
  kNoSpace = ENOSPC,
  kRange = ERANGE,         // value out of its allowed range
  kTooBig = E2BIG,         // frame, object or buffer over its limit
  kCorruption = EBADMSG,   // checksum mismatch, undecodable bytes
  kTimeout = ETIMEDOUT,
  kShutdown = ESHUTDOWN,   // the component is stopping
  kNotSupported = EOPNOTSUPP,
  kNoData = ENODATA,       // no such attribute (getxattr)
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string msg) : code_(code), msg_(std::move(msg)) {}

  static Status OK() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  int err() const { return static_cast<int>(code_); }
  const std::string& message() const { return msg_; }
  // "ENOENT: pool 'x' does not exist"
  std::string ToString() const;

  // Prefixes context to the message, keeping the code: "open store: ..."
  Status Annotate(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string msg_;
};

// Short helpers so call sites read as sentences.
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status Invalid(std::string m) { return {Code::kInvalid, std::move(m)}; }
inline Status Exists(std::string m) { return {Code::kExists, std::move(m)}; }
inline Status IOError(std::string m) { return {Code::kIO, std::move(m)}; }
inline Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {Code::kPermission, std::move(m)}; }
inline Status TooBig(std::string m) { return {Code::kTooBig, std::move(m)}; }
inline Status OutOfRange(std::string m) { return {Code::kRange, std::move(m)}; }
inline Status TimedOut(std::string m) { return {Code::kTimeout, std::move(m)}; }
inline Status TryAgain(std::string m) { return {Code::kAgain, std::move(m)}; }
inline Status ShuttingDown(std::string m) { return {Code::kShutdown, std::move(m)}; }

// Name of a code as Ceph operators know it ("ENOENT").
const char* CodeName(Code c);

// Result<T>: a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status s) : v_(std::move(s)) {}     // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace nacre

// Returns early from the enclosing function when `expr` is not OK.
#define NACRE_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::nacre::Status _st = (expr);            \
    if (!_st.ok()) return _st;               \
  } while (0)

#define NACRE_CONCAT_INNER(a, b) a##b
#define NACRE_CONCAT(a, b) NACRE_CONCAT_INNER(a, b)
// NACRE_ASSIGN_OR_RETURN(auto x, Fn()); declares x from a Result or returns its Status.
#define NACRE_ASSIGN_OR_RETURN(lhs, expr)                          \
  auto NACRE_CONCAT(_res_, __LINE__) = (expr);                     \
  if (!NACRE_CONCAT(_res_, __LINE__).ok())                         \
    return NACRE_CONCAT(_res_, __LINE__).status();                 \
  lhs = std::move(NACRE_CONCAT(_res_, __LINE__)).value()
