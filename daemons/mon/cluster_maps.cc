#include "daemons/mon/cluster_maps.h"

#include "cluster/osdmap_incremental.h"

namespace nacre::mon {

Status ClusterMaps::Apply(const proto::MonUpdate& u) {
  // Only the OSDMap part can fail; it applies to a copy and swaps on
  // success, so a bad value changes nothing. The rest cannot fail.
  if (u.osdmap().ops_size() > 0) {
    NACRE_RETURN_IF_ERROR(monc::ApplyOsdMapIncremental(u.osdmap(), p_.mutable_osdmap(), /*check_epoch=*/false));
    proto::OSDMapIncremental* kept = p_.add_osdmap_history();
    *kept = u.osdmap();
    kept->set_epoch(p_.osdmap().epoch());
    if (p_.osdmap_history_size() > kOsdMapHistory)
      p_.mutable_osdmap_history()->DeleteSubrange(0, p_.osdmap_history_size() - kOsdMapHistory);
  }
  if (u.auth_size() > 0) {
    auto* a = p_.mutable_auth();
    a->set_epoch(a->epoch() + 1);
    for (const auto& op : u.auth()) {
      if (op.has_upsert()) (*a->mutable_entities())[op.upsert().entity()] = op.upsert();
      else a->mutable_entities()->erase(op.remove());
    }
  }
  if (u.config_size() > 0) {
    auto* c = p_.mutable_config();
    c->set_epoch(c->epoch() + 1);
    for (const auto& op : u.config()) {
      std::string key = op.section() + "/" + op.name();
      if (op.remove()) c->mutable_values()->erase(key);
      else (*c->mutable_values())[key] = op.value();
    }
  }
  if (u.fsmap_size() > 0) {
    auto* f = p_.mutable_fsmap();
    f->set_epoch(f->epoch() + 1);
    for (const auto& op : u.fsmap()) {
      switch (op.op_case()) {
        case proto::FsMapOp::kFsUpsert:
          (*f->mutable_filesystems())[op.fs_upsert().id()] = op.fs_upsert();
          if (op.fs_upsert().id() > f->fs_max()) f->set_fs_max(op.fs_upsert().id());
          break;
        case proto::FsMapOp::kFsRemove:
          f->mutable_filesystems()->erase(op.fs_remove());
          break;
        case proto::FsMapOp::kMdsUpsert:
          (*f->mutable_mds())[op.mds_upsert().name()] = op.mds_upsert();
          if (op.mds_upsert().gid() > f->gid_max()) f->set_gid_max(op.mds_upsert().gid());
          break;
        case proto::FsMapOp::kMdsRemove:
          f->mutable_mds()->erase(op.mds_remove());
          break;
        case proto::FsMapOp::OP_NOT_SET:
          break;
      }
    }
  }
  if (u.monmap_size() > 0) {
    auto* mm = p_.mutable_monmap();
    mm->set_epoch(mm->epoch() + 1);
    for (const auto& op : u.monmap()) {
      auto* mons = mm->mutable_mons();
      if (op.has_mon_upsert()) {
        bool found = false;
        for (auto& m : *mons)
          if (m.name() == op.mon_upsert().name()) {
            m = op.mon_upsert();
            found = true;
          }
        if (!found) *mons->Add() = op.mon_upsert();
      } else {
        for (int i = 0; i < mons->size(); ++i)
          if (mons->Get(i).name() == op.mon_remove()) {
            mons->DeleteSubrange(i, 1);
            break;
          }
      }
    }
  }
  return Status::OK();
}

const proto::PoolInfo* ClusterMaps::PoolByName(const std::string& name) const {
  for (const auto& [id, p] : p_.osdmap().pools())
    if (p.name() == name) return &p;
  return nullptr;
}

const proto::OsdInfo* ClusterMaps::Osd(int32_t id) const {
  auto it = p_.osdmap().osds().find(id);
  return it == p_.osdmap().osds().end() ? nullptr : &it->second;
}

}  // namespace nacre::mon
