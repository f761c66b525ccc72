// Paxos messages on the messenger: the PaxosMessage protobuf is the frame's
// header, and the bulk bytes it carries (proposal, catch-up entries,
// snapshot) travel as the frame's payload, so a large map does not hit the
// header limit and is not parsed as protobuf twice.
//
// Layout: payload = proposal.data | entries[0].data | ... | snapshot.data,
// each field's data cleared in the header and its length in data_len.
// Decoding checks that the lengths add up to exactly the payload.
#pragma once

#include "common/msg/message.h"
#include "common/status.h"
#include "paxos.pb.h"

namespace nacre::mon {

msg::Message EncodePaxosMessage(proto::PaxosMessage m);
Result<proto::PaxosMessage> DecodePaxosMessage(const msg::Message& m);

}  // namespace nacre::mon
