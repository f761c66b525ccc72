// Signed admin commands: the CLI signs each CommandRequest with its entity's
// key; a monitor checks the signature against the Auth map and the entity's
// `mon` cap before running it. Stamps outside a window are refused so a
// captured request cannot be replayed later.
#pragma once

#include <cstdint>
#include <string>

#include "admin.pb.h"
#include "common/status.h"
#include "mon.pb.h"

namespace nacre::monc {

inline constexpr int64_t kAdminStampWindowMs = 5 * 60 * 1000;

// The bytes that are signed: entity, stamp, prefix and the sorted arguments,
// each length-prefixed so no two requests share an encoding.
std::string CanonicalCommand(const proto::CommandRequest& req);
// Fills entity, stamp_ms and signature.
void SignCommand(const std::string& entity, const std::string& secret, int64_t now_ms, proto::CommandRequest* req);
// OK if the signature is valid, fresh, and the entity's mon cap allows the
// command (`allow *` or `allow rw` for writes; also `allow r` for reads).
Status VerifyCommand(const proto::CommandRequest& req, const proto::AuthMapProto& auth, bool is_write, int64_t now_ms);

}  // namespace nacre::monc
