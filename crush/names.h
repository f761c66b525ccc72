// Rules for the names of types, devices, buckets, rules and device classes:
// 1..kMaxNameLength characters of [A-Za-z0-9_.-], starting with a letter or
// '_', so a name can never be mistaken for a number or an option in the text
// format or on the command line.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "crush/limits.h"

namespace nacre::crush {

inline bool IsValidName(std::string_view s) {
  if (s.empty() || s.size() > static_cast<size_t>(kMaxNameLength)) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s)
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '.' && c != '-') return false;
  return true;
}

// Type names head bucket declarations in the text format ("host h0 { }"), so
// they must not be one of its statement keywords.
inline Status CheckTypeName(std::string_view name) {
  for (std::string_view kw : {"tunable", "type", "device", "rule"})
    if (name == kw) return Invalid("type name '" + std::string(name) + "' is reserved");
  return Status::OK();
}

// `kind` names what the name is for in the error ("bucket name ...").
inline Status CheckName(std::string_view kind, std::string_view name) {
  if (IsValidName(name)) return Status::OK();
  std::string shown(name.substr(0, 40));
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return Invalid(std::string(kind) + " name '" + shown + (name.size() > 40 ? "...'" : "'") +
                 " is invalid (1-" + std::to_string(kMaxNameLength) +
                 " characters of A-Z a-z 0-9 _ . -, starting with a letter or _)");
}

}  // namespace nacre::crush
