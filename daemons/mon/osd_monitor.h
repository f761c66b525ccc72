// OsdMonitor: the monitor's decisions about OSD liveness, as a pure object
// driven by messages and the clock (the Monitor does the I/O).
//
// - Boot: an OSD names itself by the uuid fixed at its mkfs; a new uuid
//   gets the lowest free id and a CRUSH device under its host (created under
//   root "default" if missing); a known one gets its id back. It is marked up
//   and in with its new address.
// - Beacons: an up OSD silent for mon_osd_report_timeout is marked down.
// - Failure reports: mon_osd_min_down_reporters distinct OSDs reporting one
//   target mark it down; a report is forgotten after the report timeout or
//   when its reporter says the target is alive again.
// - Out: an OSD down for mon_osd_down_out_interval is marked out, so its
//   data is re-replicated elsewhere.
// Only the active leader uses this; its timers restart when it becomes
// leader (every OSD gets a full grace period then).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/status.h"
#include "daemons/mon/cluster_maps.h"
#include "mon.pb.h"

namespace nacre::mon {

struct OsdMonitorOptions {
  int64_t report_timeout_ms = 30000;
  int64_t down_out_interval_ms = 600000;
  int min_down_reporters = 2;
};

class OsdMonitor {
 public:
  explicit OsdMonitor(OsdMonitorOptions opts) : opts_(opts) {}

  // Forget every timer: the monitor just became leader at `now_ms`.
  void Reset(int64_t now_ms);

  // The update that boots the OSD; *id is its id.
  Result<proto::MonUpdate> HandleBoot(const proto::OsdBoot& boot, const ClusterMaps& maps, int64_t now_ms, int32_t* id);
  void HandleBeacon(const proto::OsdBeacon& b, int64_t now_ms);
  // An update marking the target down once enough reporters agree.
  std::optional<proto::MonUpdate> HandleFailure(const proto::OsdFailureReport& r, const ClusterMaps& maps,
                                                int64_t now_ms);
  // Down for silent OSDs, out for long-down ones; nullopt when nothing changes.
  std::optional<proto::MonUpdate> Tick(const ClusterMaps& maps, int64_t now_ms);

 private:
  OsdMonitorOptions opts_;
  int64_t leader_since_ms_ = 0;
  std::map<int32_t, int64_t> last_beacon_ms_;
  std::map<int32_t, std::map<int32_t, int64_t>> reports_;  // target -> reporter -> when
};

// Returns the encoded CRUSH map with device `id` (weight, class) under host
// `host`, creating the host bucket under root "default" if needed, or moving
// the device there if it was elsewhere.
Result<std::string> CrushPlaceOsd(const std::string& crush_bytes, int32_t id, uint32_t weight, const std::string& host,
                                  const std::string& device_class);

}  // namespace nacre::mon
