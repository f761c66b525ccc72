#include "daemons/mon/mkfs.h"

#include "cluster/mon_client.h"
#include "crush/builder.h"

namespace nacre::mon {

std::string InitialCrushMap() {
  crush::CrushBuilder b;
  b.AddType(0, "osd", "initial");
  b.AddType(1, "host", "initial");
  b.AddType(3, "rack", "initial");
  b.AddType(10, "root", "initial");
  b.AddBucket(-1, "default", "root", {}, "initial");
  crush::CrushBuilder::StepSpec take{crush::StepOp::kTake, 0, "default", "", "initial"};
  crush::CrushBuilder::StepSpec choose{crush::StepOp::kChooseLeafFirstn, 0, "host", "", "initial"};
  crush::CrushBuilder::StepSpec emit{crush::StepOp::kEmit, 0, "", "", "initial"};
  b.AddRule(0, "replicated_rule", crush::RuleType::kReplicated, {take, choose, emit}, "initial");
  auto m = b.Build();
  // A fixed, tested description: failing to build it is a programming error.
  if (!m.ok()) abort();
  return m->EncodeToString();
}

Result<MkfsInput> MkfsInputFromConfig(const std::string& fsid, const std::string& members,
                                      const std::string& mon_host, Keyring keyring) {
  MkfsInput in;
  in.fsid = fsid;
  in.keyring = std::move(keyring);
  size_t pos = 0;
  while (pos <= members.size()) {
    size_t c = members.find_first_of(", ", pos);
    std::string n = members.substr(pos, c == std::string::npos ? std::string::npos : c - pos);
    if (!n.empty()) in.names.push_back(n);
    if (c == std::string::npos) break;
    pos = c + 1;
  }
  NACRE_ASSIGN_OR_RETURN(in.addrs, monc::ParseMonHost(mon_host));
  if (in.names.empty()) return Invalid("mon_initial_members is empty");
  if (in.names.size() != in.addrs.size())
    return Invalid("mon_initial_members names " + std::to_string(in.names.size()) + " monitors but mon_host has " +
                   std::to_string(in.addrs.size()) + " addresses");
  if (fsid.empty()) return Invalid("fsid is not set");
  return in;
}

Result<proto::ClusterMapsProto> InitialMaps(const MkfsInput& in) {
  proto::ClusterMapsProto p;
  auto* mm = p.mutable_monmap();
  mm->set_epoch(1);
  mm->set_fsid(in.fsid);
  for (size_t i = 0; i < in.names.size(); ++i) {
    auto* m = mm->add_mons();
    m->set_name(in.names[i]);
    m->set_rank(static_cast<int>(i));
    m->mutable_addr()->set_host(in.addrs[i].host);
    m->mutable_addr()->set_port(in.addrs[i].port);
    auto admin = monc::AdminAddrOf(in.addrs[i]);
    m->mutable_admin_addr()->set_host(admin.host);
    m->mutable_admin_addr()->set_port(admin.port);
  }
  auto* om = p.mutable_osdmap();
  om->set_epoch(1);
  om->set_fsid(in.fsid);
  om->set_crush(InitialCrushMap());
  proto::EcProfile def;
  def.set_name("default");
  (*def.mutable_kv())["k"] = "2";
  (*def.mutable_kv())["m"] = "2";
  (*def.mutable_kv())["plugin"] = "isa";
  (*def.mutable_kv())["crush-failure-domain"] = "host";
  (*om->mutable_ec_profiles())["default"] = def;
  p.mutable_fsmap()->set_epoch(1);
  p.mutable_config()->set_epoch(1);
  auto* auth = p.mutable_auth();
  auth->set_epoch(1);
  if (!in.keyring.Get("client.admin")) return Invalid("the mkfs keyring has no client.admin key");
  for (const auto& [name, e] : in.keyring.entries()) {
    // The monitors' shared key stays in their keyring, out of the Auth map,
    // so `auth ls` and subscribers never see it.
    if (name == "mon.") continue;
    proto::AuthEntity a;
    a.set_entity(name);
    a.set_key(e.key_b64);
    for (const auto& [svc, cap] : e.caps) (*a.mutable_caps())[svc] = cap;
    // client.admin administers everything, whatever the file said.
    if (name == "client.admin" && !a.caps().count("mon")) (*a.mutable_caps())["mon"] = "allow *";
    (*auth->mutable_entities())[name] = a;
  }
  return p;
}

}  // namespace nacre::mon
