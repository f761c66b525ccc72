// Signed admin commands: signature, freshness and caps.
#include <catch2/catch.hpp>

#include "common/keyring.h"
#include "cluster/admin_auth.h"

using namespace nacre;
using namespace nacre::monc;

TEST_CASE("admin commands are signed and checked against caps", "[mon][auth]") {
  proto::AuthMapProto auth;
  std::string admin_key = GenerateKey(), ro_key = GenerateKey();
  auto& admin = (*auth.mutable_entities())["client.admin"];
  admin.set_entity("client.admin");
  admin.set_key(admin_key);
  (*admin.mutable_caps())["mon"] = "allow *";
  auto& ro = (*auth.mutable_entities())["client.ro"];
  ro.set_entity("client.ro");
  ro.set_key(ro_key);
  (*ro.mutable_caps())["mon"] = "allow r";

  proto::CommandRequest r;
  r.set_prefix("osd pool create");
  (*r.mutable_args())["pool"] = "data";
  SignCommand("client.admin", *Base64Decode(admin_key), 1000000, &r);
  CHECK(VerifyCommand(r, auth, true, 1000000).ok());
  // Tampering with an argument breaks the signature.
  proto::CommandRequest t = r;
  (*t.mutable_args())["pool"] = "other";
  CHECK(VerifyCommand(t, auth, true, 1000000).code() == Code::kPermission);
  // An old request cannot be replayed.
  CHECK(VerifyCommand(r, auth, true, 1000000 + kAdminStampWindowMs + 1).code() == Code::kPermission);
  // Wrong key, unknown entity, insufficient caps.
  SignCommand("client.admin", *Base64Decode(ro_key), 1000000, &r);
  CHECK(VerifyCommand(r, auth, true, 1000000).code() == Code::kPermission);
  SignCommand("client.nobody", *Base64Decode(ro_key), 1000000, &r);
  CHECK(VerifyCommand(r, auth, false, 1000000).code() == Code::kPermission);
  SignCommand("client.ro", *Base64Decode(ro_key), 1000000, &r);
  CHECK(VerifyCommand(r, auth, false, 1000000).ok());
  CHECK(VerifyCommand(r, auth, true, 1000000).code() == Code::kPermission);
}
