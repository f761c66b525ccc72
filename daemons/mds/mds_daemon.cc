// MdsDaemon: monitors, FSMap, replay and periodic work. Client messages:
// mds_serve.cc.
#include "daemons/mds/mds_daemon.h"

#include <chrono>
#include <cstdlib>
#include <random>

#include "cluster/mon_client.h"
#include "common/log.h"
#include "messenger.pb.h"
#include "mon.pb.h"

namespace nacre::mds {

namespace {
EventLoop::Duration Secs(double s) {
  return std::chrono::duration_cast<EventLoop::Duration>(std::chrono::duration<double>(s));
}
}  // namespace

MdsDaemon::MdsDaemon(const Config& config, AsioEventLoop& loop) : config_(config), loop_(loop) {
  std::random_device rd;
  incarnation_ = (static_cast<uint64_t>(rd()) << 32 | rd()) | 1;
  cache_limit_ = static_cast<size_t>(config.GetInt("mds_cache_memory_limit"));
  flush_interval_ = config.GetDouble("mds_journal_flush_interval");
  max_segments_ = static_cast<uint64_t>(config.GetInt("mds_journal_max_segments"));
  complaint_ns_ = static_cast<int64_t>(config.GetDouble("mds_op_complaint_time") * 1e9);
}

MdsDaemon::~MdsDaemon() = default;

int64_t MdsDaemon::NowNs() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* MdsDaemon::StateName() const {
  switch (state_) {
    case State::kReplay: return "up:replay";
    case State::kActive: return "up:active";
    default: return "up:standby";
  }
}

Result<std::string> MdsDaemon::PeerKey(const std::string& entity) const {
  if (const KeyEntry* k = keyring_.Get(entity)) return k->secret;
  if (mons_) {
    const auto& auth = mons_->authmap().entities();
    auto it = auth.find(entity);
    if (it != auth.end()) {
      auto secret = Base64Decode(it->second.key());
      if (secret.ok()) return *secret;
    }
  }
  return NotFound("unknown entity " + entity);
}

Status MdsDaemon::Start() {
  id_ = config_.entity_id();
  std::string entity = config_.entity();
  NACRE_ASSIGN_OR_RETURN(keyring_, Keyring::Load(config_.GetString("keyring")));
  const KeyEntry* key = keyring_.Get(entity);
  if (!key) return NotFound("no key for " + entity + " in " + config_.GetString("keyring"));
  NACRE_ASSIGN_OR_RETURN(auto mons, monc::ParseMonHost(config_.GetString("mon_host")));
  log::SetProcessTag(entity);

  ms_ = std::make_unique<msg::TcpMessenger>(
      loop_, entity, [this](const std::string& e) { return PeerKey(e); }, key->secret,
      msg::TcpMessengerOptions::FromConfig(config_));
  ms_->SetDispatcher(this);
  NACRE_RETURN_IF_ERROR(
      ms_->Bind({config_.GetString("public_addr"), static_cast<uint16_t>(config_.GetInt("public_port"))}));
  NACRE_RETURN_IF_ERROR(ms_->Start());

  monc::MonSession::Options o;
  o.mons = std::move(mons);
  std::string members = config_.GetString("mon_initial_members");
  for (size_t pos = 0; pos < members.size();) {
    size_t end = members.find_first_of(", ", pos);
    if (end == std::string::npos) end = members.size();
    if (end > pos) o.mon_names.push_back("mon." + members.substr(pos, end - pos));
    pos = end + 1;
  }
  if (o.mon_names.size() != o.mons.size()) o.mon_names.clear();
  o.want_auth = true;
  o.want_fsmap = true;
  o.on_fsmap = [this](const proto::FSMapProto& m) { HandleFsMap(m); };
  mons_ = std::make_unique<monc::MonSession>(ms_.get(), o);
  mons_->Start();
  NLOG(mds, kInfo) << entity << " at " << ms_->my_addr().ToString() << " incarnation " << incarnation_
                   << ": standby";
  Beacon();
  Tick();
  return Status::OK();
}

void MdsDaemon::Stop() {
  loop_.Cancel(beacon_timer_);
  loop_.Cancel(tick_timer_);
  if (mons_) mons_->Stop();
  if (ms_) ms_->Shutdown();
  store_.reset();  // joins the worker
}

[[noreturn]] void MdsDaemon::Fail(const std::string& why) {
  NLOG(mds, kError) << "mds." << id_ << " stopping: " << why;
  std::_Exit(1);
}

void MdsDaemon::Beacon() {
  int64_t now = NowNs();
  if (last_beacon_ns_) {
    double dt = static_cast<double>(now - last_beacon_ns_) / 1e9;
    if (dt > 0) rate_ = static_cast<double>(requests_ - requests_at_beacon_) / dt;
  }
  last_beacon_ns_ = now;
  requests_at_beacon_ = requests_;
  proto::MdsBeacon b;
  b.set_name(id_);
  b.mutable_addr()->set_host(ms_->my_addr().host);
  b.mutable_addr()->set_port(ms_->my_addr().port);
  b.set_state(StateName());
  b.set_seq(++beacon_seq_);
  b.set_incarnation(incarnation_);
  b.set_fsmap_epoch(mons_->fsmap().epoch());
  b.set_fs_id(fs_id_);
  b.set_rank(rank_);
  b.set_cache_limit(cache_limit_);
  b.set_requests_per_sec(rate_);
  if (core_) {
    b.set_clients(static_cast<uint32_t>(core_->num_sessions()));
    b.set_cache_bytes(cache_->bytes());
    b.set_inodes(cache_->num_inodes());
    uint32_t slow = 0;
    for (const auto& p : parked_)
      if (now - p.started_ns > complaint_ns_) ++slow;
    b.set_slow_requests(slow);
  }
  Status s = mons_->SendToMon(msg::Message::Make(proto::MSG_MDS_BEACON, b));
  if (!s.ok()) NLOG(mds, kDebug) << "beacon: " << s.ToString();
  loop_.Cancel(beacon_timer_);
  beacon_timer_ = loop_.CallAfter(Secs(config_.GetDouble("mds_beacon_interval")), [this] { Beacon(); });
}

void MdsDaemon::HandleFsMap(const proto::FSMapProto& m) {
  auto it = m.mds().find(id_);
  bool mine = it != m.mds().end() && it->second.incarnation() == incarnation_;
  if (state_ != State::kStandby) {
    if (!mine || it->second.rank() != rank_ || it->second.fs_id() != fs_id_ || !m.filesystems().count(fs_id_))
      Fail("FSMap epoch " + std::to_string(m.epoch()) + " no longer gives me rank " + std::to_string(rank_));
    return;
  }
  if (!mine || it->second.rank() < 0 || it->second.state() != "up:replay") return;
  auto fs = m.filesystems().find(it->second.fs_id());
  if (fs == m.filesystems().end()) return;
  int64_t data_pool = fs->second.data_pools_size() ? fs->second.data_pools(0) : fs->second.metadata_pool();
  StartReplay(it->second.fs_id(), it->second.rank(), fs->second.metadata_pool(), data_pool);
}

void MdsDaemon::StartReplay(int fs_id, int rank, int64_t meta_pool, int64_t data_pool) {
  state_ = State::kReplay;
  fs_id_ = fs_id;
  rank_ = rank;
  data_pool_ = data_pool;
  NLOG(mds, kInfo) << "FSMap epoch " << mons_->fsmap().epoch() << " gives me rank " << rank << " of filesystem "
                   << fs_id << ": replaying its journal";
  Beacon();
  if (!store_) store_ = std::make_unique<MdsStore>(loop_, config_);
  int64_t now = NowNs();
  bool ok = store_->Submit([this, meta_pool, rank, now] {
    Status s = store_->Connect(meta_pool);
    Result<RankState> st = s.ok() ? store_->ReadRank(rank, now) : Result<RankState>(s);
    auto shared = std::make_shared<Result<RankState>>(std::move(st));
    store_->Post([this, shared] { FinishReplay(std::move(*shared)); });
  });
  if (!ok) Fail("cannot queue the replay");
}

void MdsDaemon::FinishReplay(Result<RankState> st) {
  if (!st.ok()) Fail("replay of rank " + std::to_string(rank_) + ": " + st.status().ToString());
  CoreOptions co;
  co.rank = rank_;
  co.data_pool = data_pool_;
  co.session_timeout_ns = static_cast<int64_t>(config_.GetDouble("mds_session_timeout") * 1e9);
  cache_ = std::make_unique<MdsCache>(rank_);
  core_ = std::make_unique<MdsCore>(cache_.get(), co);
  cache_->InstallRoot(st->root);
  cache_->InstallRemote(st->remote);
  for (const auto& [ino, kvs] : st->dirs) cache_->InstallDir(ino, kvs);
  cache_->set_next_ino(st->head.next_ino());
  std::vector<proto::InodeProto> purges;
  for (const auto& e : st->entries) {
    cache_->ApplyEntry(e);
    core_->NoteReplayed(e);
    for (const auto& op : e.ops()) {
      if (op.has_purge_inode()) purges.push_back(op.purge_inode());
      if (op.has_root_set()) st->new_fs = false;  // created before, not yet flushed
    }
  }
  // The old MDS may have died before deleting the data; deleting again is
  // harmless.
  for (const auto& i : purges)
    if (!store_->Submit([this, i] { (void)store_->Purge(i); })) NLOG(mds, kWarn) << "purge queue full";
  strays_due_ns_ = NowNs() + co.session_timeout_ns;
  expire_seg_ = st->head.expire_seg();
  journal_ = std::make_unique<MdsJournal>(loop_, store_->meta(), rank_, st->next_seg,
                                          static_cast<uint64_t>(config_.GetInt("mds_journal_segment_bytes")),
                                          [this](const Status& s) { Fail("journal: " + s.ToString()); });
  if (st->new_fs) {
    // A new filesystem: the root is journaled like any change.
    proto::JournalEntry e;
    *e.add_ops()->mutable_root_set() = st->root;
    cache_->Apply(e.ops(0));
    e.set_seq(core_->journal_seq() + 1);
    core_->set_journal_seq(e.seq());
    e.set_next_ino(cache_->next_ino());
    Journal(e, {});
    NLOG(mds, kInfo) << "new filesystem: created the root";
  }
  NLOG(mds, kInfo) << "replayed " << st->entries.size() << " journal entries of rank " << rank_ << " ("
                   << st->dirs.size() << " dirs); up:active";
  state_ = State::kActive;
  UpdateStatfs();
  Beacon();
  MaybeFlush(true);
}

void MdsDaemon::Tick() {
  tick_timer_ = loop_.CallAfter(std::chrono::seconds(1), [this] { Tick(); });
  if (state_ != State::kActive) return;
  auto gone = core_->Tick(NowNs());
  for (uint64_t s : gone) {
    auto it = session_con_.find(s);
    if (it != session_con_.end()) {
      con_session_.erase(it->second.get());
      session_con_.erase(it);
    }
  }
  for (auto& p : parked_) {
    int64_t waited = NowNs() - p.started_ns;
    if (waited <= complaint_ns_ || p.complained) continue;
    p.complained = true;
    NLOG(mds, kWarn) << "slow request: tid " << p.req.tid() << " op " << p.req.op() << " on " << InoHex(p.req.ino())
                     << " has waited " << waited / 1'000'000'000 << " s for caps or locks";
  }
  if (strays_due_ns_ && NowNs() > strays_due_ns_) {
    strays_due_ns_ = 0;
    core_->PurgeUnheldStrays();
  }
  Drain();
  UpdateStatfs();
  MaybeFlush(false);
  TrimCache();
}

void MdsDaemon::UpdateStatfs() {
  // Capacity is not reported by the monitors yet: a nominal 1 TiB per up
  // OSD, less what the files hold as far as the cache knows.
  uint64_t up = 0;
  for (const auto& [id, o] : mons_->osdmap().osds())
    if (o.up()) ++up;
  proto::StatfsProto s;
  s.set_total_bytes(std::max<uint64_t>(1, up) << 40);
  s.set_free_bytes(s.total_bytes());
  s.set_avail_bytes(s.total_bytes());
  s.set_files(cache_->num_inodes());
  s.set_files_free(uint64_t{1} << 40);
  core_->set_statfs(s);
}

void MdsDaemon::MaybeFlush(bool force) {
  if (state_ != State::kActive || flushing_) return;
  int64_t now = NowNs();
  bool due = force || static_cast<double>(now - last_flush_ns_) / 1e9 >= flush_interval_ ||
             journal_->current_seg() - expire_seg_ > max_segments_;
  if (!due) return;
  if (!cache_->AnyDirty() && journal_->current_seg() == expire_seg_) return;
  flushing_ = true;
  last_flush_ns_ = now;
  journal_->Roll([this](uint64_t seg) {
    auto batch = std::make_shared<FlushBatch>(cache_->TakeDirty());
    proto::JournalHeadProto head;
    head.set_expire_seg(seg);
    head.set_expire_seq(core_->journal_seq() + 1);
    head.set_next_ino(cache_->next_ino());
    uint64_t old = expire_seg_;
    // The snapshot may hold changes whose entries are still being
    // appended (they go to segment `seg` on): write it only once they are
    // durable, so no object ever shows what the journal could lose.
    journal_->AfterSafe([this, batch, head, old] { WriteFlush(batch, head, old); });
  });
}

void MdsDaemon::WriteFlush(std::shared_ptr<FlushBatch> batch, proto::JournalHeadProto head, uint64_t old_expire) {
  bool ok = store_->Submit([this, batch, head, old_expire] {
    Status s = store_->Flush(*batch, rank_, head, old_expire);
    store_->Post([this, s, head] {
      if (!s.ok()) Fail("flush: " + s.ToString());
      expire_seg_ = head.expire_seg();
      flushing_ = false;
      NLOG(mds, kDebug) << "flushed; journal head at segment " << head.expire_seg();
      TrimCache();
    });
  });
  if (!ok) Fail("cannot queue a flush");
}

void MdsDaemon::TrimCache() {
  // Not while a flush is writing: its dirs are marked clean but not yet in
  // their objects, so a reload would read old state.
  if (flushing_ || !cache_ || cache_->bytes() <= cache_limit_) return;
  std::set<uint64_t> pinned = core_->PinnedDirs();
  for (const auto& [ino, w] : loads_) pinned.insert(ino);
  size_t dropped = cache_->Trim(cache_limit_, pinned);
  NLOG(mds, kDebug) << "cache trimmed: " << dropped << " dirs dropped, " << cache_->bytes() << " bytes left";
}

}  // namespace nacre::mds
