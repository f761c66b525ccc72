#include "common/status.h"

namespace nacre {

const char* CodeName(Code c) {
  switch (c) {
    case Code::kOk: return "OK";
    case Code::kPermission: return "EPERM";
    case Code::kNotFound: return "ENOENT";
    case Code::kIO: return "EIO";
    case Code::kAgain: return "EAGAIN";
    case Code::kExists: return "EEXIST";
    case Code::kInvalid: return "EINVAL";
    case Code::kNoSpace: return "ENOSPC";
    case Code::kRange: return "ERANGE";
    case Code::kTooBig: return "E2BIG";
    case Code::kCorruption: return "EBADMSG";
    case Code::kTimeout: return "ETIMEDOUT";
    case Code::kShutdown: return "ESHUTDOWN";
    case Code::kNotSupported: return "EOPNOTSUPP";
    case Code::kNoData: return "ENODATA";
  }
  return "EUNKNOWN";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s = CodeName(code_);
  if (!msg_.empty()) {
    s += ": ";
    s += msg_;
  }
  return s;
}

Status Status::Annotate(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += msg_;
  return Status(code_, std::move(m));
}

}  // namespace nacre
