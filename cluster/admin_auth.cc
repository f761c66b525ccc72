#include "cluster/admin_auth.h"

#include <map>

#include "common/hmac.h"
#include "common/keyring.h"

namespace nacre::monc {

namespace {
void Put(std::string* out, const std::string& s) {
  uint32_t n = static_cast<uint32_t>(s.size());
  out->append(reinterpret_cast<const char*>(&n), sizeof n);
  out->append(s);
}
}  // namespace

std::string CanonicalCommand(const proto::CommandRequest& req) {
  std::string out = "nacre-admin-v1";
  Put(&out, req.entity());
  Put(&out, std::to_string(req.stamp_ms()));
  Put(&out, req.prefix());
  std::map<std::string, std::string> sorted(req.args().begin(), req.args().end());
  for (const auto& [k, v] : sorted) {
    Put(&out, k);
    Put(&out, v);
  }
  return out;
}

void SignCommand(const std::string& entity, const std::string& secret, int64_t now_ms, proto::CommandRequest* req) {
  req->set_entity(entity);
  req->set_stamp_ms(now_ms);
  req->set_signature(HmacSha256(secret, CanonicalCommand(*req)));
}

Status VerifyCommand(const proto::CommandRequest& req, const proto::AuthMapProto& auth, bool is_write, int64_t now_ms) {
  auto it = auth.entities().find(req.entity());
  if (it == auth.entities().end()) return PermissionDenied("unknown entity '" + req.entity() + "'");
  auto secret = Base64Decode(it->second.key());
  if (!secret.ok()) return PermissionDenied("entity '" + req.entity() + "' has an unusable key");
  if (!ConstantTimeEqual(HmacSha256(*secret, CanonicalCommand(req)), req.signature()))
    return PermissionDenied("bad signature from " + req.entity());
  int64_t skew = now_ms - req.stamp_ms();
  if (skew > kAdminStampWindowMs || skew < -kAdminStampWindowMs)
    return PermissionDenied("request stamp from " + req.entity() + " is outside the allowed clock skew");
  auto cap = it->second.caps().find("mon");
  std::string c = cap == it->second.caps().end() ? "" : cap->second;
  bool can_write = c == "allow *" || c == "allow rw" || c == "allow rwx";
  bool can_read = can_write || c == "allow r" || c == "allow rx";
  if (is_write ? !can_write : !can_read)
    return PermissionDenied("access denied: " + req.entity() + " lacks mon cap for " + req.prefix());
  return Status::OK();
}

}  // namespace nacre::monc
