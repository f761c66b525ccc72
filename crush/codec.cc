// CrushMap <-> proto::CrushMapProto. Decoding copies fields without trusting
// them and then runs the same Validate() as every other way of building a
// map, so a hostile or corrupt encoding gets the same one-line errors.
#include "crush/crush_map.h"
#include "proto/crush.pb.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace nacre::crush {

namespace {

proto::CrushStepOp ToProto(StepOp op) {
  switch (op) {
    case StepOp::kTake: return proto::CRUSH_STEP_TAKE;
    case StepOp::kChooseFirstn: return proto::CRUSH_STEP_CHOOSE_FIRSTN;
    case StepOp::kChooseIndep: return proto::CRUSH_STEP_CHOOSE_INDEP;
    case StepOp::kChooseLeafFirstn: return proto::CRUSH_STEP_CHOOSELEAF_FIRSTN;
    case StepOp::kChooseLeafIndep: return proto::CRUSH_STEP_CHOOSELEAF_INDEP;
    case StepOp::kEmit: return proto::CRUSH_STEP_EMIT;
    case StepOp::kSetChooseTries: return proto::CRUSH_STEP_SET_CHOOSE_TRIES;
    case StepOp::kSetChooseLeafTries: return proto::CRUSH_STEP_SET_CHOOSELEAF_TRIES;
  }
  return proto::CRUSH_STEP_UNSPECIFIED;
}

Result<StepOp> FromProto(int op) {
  switch (op) {
    case proto::CRUSH_STEP_TAKE: return StepOp::kTake;
    case proto::CRUSH_STEP_CHOOSE_FIRSTN: return StepOp::kChooseFirstn;
    case proto::CRUSH_STEP_CHOOSE_INDEP: return StepOp::kChooseIndep;
    case proto::CRUSH_STEP_CHOOSELEAF_FIRSTN: return StepOp::kChooseLeafFirstn;
    case proto::CRUSH_STEP_CHOOSELEAF_INDEP: return StepOp::kChooseLeafIndep;
    case proto::CRUSH_STEP_EMIT: return StepOp::kEmit;
    case proto::CRUSH_STEP_SET_CHOOSE_TRIES: return StepOp::kSetChooseTries;
    case proto::CRUSH_STEP_SET_CHOOSELEAF_TRIES: return StepOp::kSetChooseLeafTries;
    default: return Invalid("unknown rule step op " + std::to_string(op));
  }
}

}  // namespace

void CrushMap::Encode(proto::CrushMapProto* p) const {
  p->Clear();
  for (const TypeInfo& t : types_) {
    proto::CrushTypeProto* tp = p->add_types();
    tp->set_id(t.id);
    tp->set_name(t.name);
  }
  for (const Device& d : devices_) {
    proto::CrushDeviceProto* dp = p->add_devices();
    dp->set_id(d.id);
    dp->set_name(d.name);
    dp->set_device_class(d.device_class);
    dp->set_weight(d.weight);
  }
  for (const Bucket& b : buckets_) {
    proto::CrushBucketProto* bp = p->add_buckets();
    bp->set_id(b.id);
    bp->set_name(b.name);
    bp->set_type(b.type);
    bp->set_alg(proto::CRUSH_BUCKET_ALG_STRAW2);
    for (int32_t item : b.items) bp->add_items(item);
  }
  for (const Rule& r : rules_) {
    proto::CrushRuleProto* rp = p->add_rules();
    rp->set_id(r.id);
    rp->set_name(r.name);
    rp->set_type(r.type == RuleType::kErasure ? proto::CRUSH_RULE_ERASURE : proto::CRUSH_RULE_REPLICATED);
    for (const Step& s : r.steps) {
      proto::CrushStepProto* sp = rp->add_steps();
      sp->set_op(ToProto(s.op));
      sp->set_arg1(s.arg1);
      sp->set_arg2(s.arg2);
      sp->set_device_class(s.device_class);
    }
  }
  p->mutable_tunables()->set_choose_total_tries(tunables_.choose_total_tries);
}

std::string CrushMap::EncodeToString() const {
  proto::CrushMapProto p;
  Encode(&p);
  std::string out;
  // Deterministic so the same map always encodes to the same bytes (the
  // monitors compare and checksum encoded maps).
  {
    google::protobuf::io::StringOutputStream sos(&out);
    google::protobuf::io::CodedOutputStream cos(&sos);
    cos.SetSerializationDeterministic(true);
    p.SerializeToCodedStream(&cos);
  }
  return out;
}

Result<CrushMap> CrushMap::Decode(const proto::CrushMapProto& p) {
  // Counts first, so an oversized message is refused before it is copied.
  if (p.devices_size() > kMaxDevices) return TooBig("too many devices: " + std::to_string(p.devices_size()));
  if (p.buckets_size() > kMaxBuckets) return TooBig("too many buckets: " + std::to_string(p.buckets_size()));
  if (p.types_size() > kMaxTypes) return TooBig("too many types: " + std::to_string(p.types_size()));
  if (p.rules_size() > kMaxRules) return TooBig("too many rules: " + std::to_string(p.rules_size()));
  CrushMap m;
  for (const auto& t : p.types()) m.types_.push_back({t.id(), t.name()});
  m.devices_.reserve(p.devices_size());
  for (const auto& d : p.devices()) m.devices_.push_back({d.id(), d.name(), d.device_class(), d.weight()});
  m.buckets_.reserve(p.buckets_size());
  size_t total_items = 0;
  for (const auto& b : p.buckets()) {
    if (b.alg() != proto::CRUSH_BUCKET_ALG_STRAW2)
      return Invalid("bucket '" + b.name() + "' has unsupported algorithm " + std::to_string(b.alg()));
    // Every item has one parent, so a valid map has fewer items than ids.
    total_items += b.items_size();
    if (total_items > static_cast<size_t>(kMaxDevices) + kMaxBuckets)
      return TooBig("too many bucket items");
    m.buckets_.push_back({b.id(), b.name(), b.type(), BucketAlg::kStraw2, {b.items().begin(), b.items().end()}});
  }
  for (const auto& r : p.rules()) {
    Rule rule{r.id(), r.name(), RuleType::kReplicated, {}};
    if (r.type() == proto::CRUSH_RULE_ERASURE) {
      rule.type = RuleType::kErasure;
    } else if (r.type() != proto::CRUSH_RULE_REPLICATED) {
      return Invalid("rule '" + r.name() + "' has unknown type " + std::to_string(r.type()));
    }
    if (r.steps_size() > kMaxRuleSteps)
      return TooBig("rule '" + r.name() + "' has " + std::to_string(r.steps_size()) + " steps (max " +
                    std::to_string(kMaxRuleSteps) + ")");
    for (const auto& s : r.steps()) {
      Result<StepOp> op = FromProto(s.op());
      if (!op.ok()) return op.status().Annotate("rule '" + r.name() + "'");
      rule.steps.push_back({*op, s.arg1(), s.arg2(), s.device_class()});
    }
    m.rules_.push_back(std::move(rule));
  }
  if (p.has_tunables() && p.tunables().choose_total_tries() != 0)
    m.tunables_.choose_total_tries = p.tunables().choose_total_tries();
  NACRE_RETURN_IF_ERROR(m.Validate());
  return m;
}

Result<CrushMap> CrushMap::DecodeFromString(std::string_view bytes) {
  if (bytes.size() > kMaxEncodedBytes)
    return TooBig("encoded crush map is " + std::to_string(bytes.size()) + " bytes (max " +
                  std::to_string(kMaxEncodedBytes) + ")");
  proto::CrushMapProto p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return Corruption("cannot parse the encoded crush map");
  return Decode(p);
}

}  // namespace nacre::crush
