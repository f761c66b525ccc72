#include "daemons/osd/pg/pg_types.h"

#include <cstdio>

namespace nacre::osd::pg {

std::string LogKey(const EVersion& v) {
  char buf[40];
  snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(v.epoch),
           static_cast<unsigned long long>(v.v));
  return std::string(kLogPrefix) + buf;
}

std::string MissingKey(const ObjectId& o) {
  std::string k = kMissingPrefix;
  k += o.ns;
  k.push_back('\0');
  k += o.name;
  return k;
}

bool ParseMissingKey(const std::string& key, ObjectId* o) {
  std::string_view rest(key);
  std::string_view prefix(kMissingPrefix);
  if (rest.substr(0, prefix.size()) != prefix) return false;
  rest.remove_prefix(prefix.size());
  // Namespaces never hold NUL (the OSD refuses them), so the first one splits.
  size_t z = rest.find('\0');
  if (z == std::string_view::npos) return false;
  o->ns = std::string(rest.substr(0, z));
  o->name = std::string(rest.substr(z + 1));
  return true;
}

std::string EncodeVersion(const EVersion& v) {
  proto::EVersion p;
  ToProto(v, &p);
  return p.SerializeAsString();
}

EVersion DecodeVersion(const std::string& s) {
  proto::EVersion p;
  if (!p.ParseFromString(s)) return {};
  return FromProto(p);
}

}  // namespace nacre::osd::pg
