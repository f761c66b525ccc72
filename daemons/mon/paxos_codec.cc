#include "daemons/mon/paxos_codec.h"

#include <string>

#include "messenger.pb.h"

namespace nacre::mon {

namespace {

// Moves `*data` to the end of `payload`, leaving its length in `*len`.
void Detach(std::string* data, uint64_t* len, std::string* payload) {
  *len = data->size();
  payload->append(*data);
  data->clear();
}

// Takes `len` bytes at `*pos` of the payload; false if they are not there.
bool Attach(uint64_t len, std::string_view payload, size_t* pos, std::string* data) {
  if (len > payload.size() - *pos) return false;
  data->assign(payload.substr(*pos, static_cast<size_t>(len)));
  *pos += static_cast<size_t>(len);
  return true;
}

}  // namespace

msg::Message EncodePaxosMessage(proto::PaxosMessage m) {
  std::string payload;
  uint64_t len = 0;
  if (m.has_proposal()) {
    Detach(m.mutable_proposal()->mutable_data(), &len, &payload);
    m.mutable_proposal()->set_data_len(len);
  }
  for (auto& e : *m.mutable_entries()) {
    Detach(e.mutable_data(), &len, &payload);
    e.set_data_len(len);
  }
  if (m.has_snapshot()) {
    Detach(m.mutable_snapshot()->mutable_data(), &len, &payload);
    m.mutable_snapshot()->set_data_len(len);
  }
  return msg::Message::Make(proto::MSG_PAXOS, m, Bytes(std::move(payload)));
}

Result<proto::PaxosMessage> DecodePaxosMessage(const msg::Message& wire) {
  if (wire.type != proto::MSG_PAXOS) return Invalid("not a paxos message");
  proto::PaxosMessage m;
  if (!wire.ParseHeader(&m)) return Corruption("undecodable paxos header");
  std::string_view payload = wire.payload.view();
  size_t pos = 0;
  bool ok = true;
  if (m.has_proposal()) {
    ok = ok && m.proposal().data().empty() &&
         Attach(m.proposal().data_len(), payload, &pos, m.mutable_proposal()->mutable_data());
    m.mutable_proposal()->clear_data_len();
  }
  for (auto& e : *m.mutable_entries()) {
    ok = ok && e.data().empty() && Attach(e.data_len(), payload, &pos, e.mutable_data());
    e.clear_data_len();
  }
  if (m.has_snapshot()) {
    ok = ok && m.snapshot().data().empty() &&
         Attach(m.snapshot().data_len(), payload, &pos, m.mutable_snapshot()->mutable_data());
    m.mutable_snapshot()->clear_data_len();
  }
  if (!ok || pos != payload.size()) return Corruption("paxos payload does not match its header");
  return m;
}

}  // namespace nacre::mon
