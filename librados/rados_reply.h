// Decoding an OSD's answer (MSG_OSD_OP_REPLY) before anything trusts it.
//
// The reply's header says how many payload bytes belong to each op; a
// hostile or broken OSD could claim more than it sent, overflow the sum, or
// send more results than the request had ops. DecodeOpReply checks all of
// that and hands out per-op slices of the payload (shared, not copied), so
// the code filling a caller's buffers never indexes past the payload.
// Fuzzed by rados_reply_fuzz.
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/msg/message.h"
#include "common/status.h"
#include "osd.pb.h"

namespace nacre::rados {

// More results than this in one reply is malformed (a request holds at most
// as many ops as an OSD transaction, osd_store_max_txn_ops).
inline constexpr size_t kMaxReplyResults = 4096;

struct DecodedReply {
  proto::OsdOpReply header;
  std::vector<Bytes> data;  // one slice per result, in op order
  Status status;            // header.status as a Status
};

// Validates header and payload. `expected_ops` (when non-zero) is the number
// of ops the request carried: a successful reply must have one result per
// op, a failed one at most that many.
Result<DecodedReply> DecodeOpReply(const msg::Message& m, size_t expected_ops = 0);
// The result-count half of that check, for a caller that learns the request
// (by the reply's tid) only after decoding.
Status CheckResultCount(const DecodedReply& r, size_t expected_ops);

// The Status of a wire status (an errno code and a message); unknown codes
// become EIO so a caller never sees a Code outside the enum.
Status StatusFromWire(int32_t code, const std::string& message);

}  // namespace nacre::rados
