#include "common/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace nacre::log {

std::atomic<int> g_levels[static_cast<int>(Subsys::kCount)] = {};

namespace {

struct Sink {
  std::mutex mu;
  FILE* out = nullptr;  // nullptr means stderr
  std::string tag;
};

Sink& sink() {
  static Sink* s = new Sink();  // never destroyed: logging works during exit
  return *s;
}

const char* kSubsysNames[] = {
#define NACRE_X(name) #name,
    NACRE_LOG_SUBSYSTEMS(NACRE_X)
#undef NACRE_X
};

const char kLevelChars[] = {'E', 'W', 'I', 'D', 'T'};

// Default level before config is read: warnings and errors only, so tools
// and tests stay quiet unless asked.
struct DefaultLevels {
  DefaultLevels() { SetAllLevels(kWarn); }
} g_default_levels;

}  // namespace

void SetLevel(Subsys s, Level l) { g_levels[static_cast<int>(s)].store(l, std::memory_order_relaxed); }

void SetAllLevels(Level l) {
  for (int i = 0; i < static_cast<int>(Subsys::kCount); ++i) g_levels[i].store(l, std::memory_order_relaxed);
}

bool ParseLevel(std::string_view t, Level* out) {
  static const char* names[] = {"error", "warn", "info", "debug", "trace"};
  for (int i = 0; i < 5; ++i) {
    if (t == names[i] || (t.size() == 1 && t[0] == '0' + i)) {
      *out = static_cast<Level>(i);
      return true;
    }
  }
  return false;
}

bool SubsysByName(std::string_view name, Subsys* out) {
  for (int i = 0; i < static_cast<int>(Subsys::kCount); ++i) {
    if (name == kSubsysNames[i]) {
      *out = static_cast<Subsys>(i);
      return true;
    }
  }
  return false;
}

const char* SubsysName(Subsys s) { return kSubsysNames[static_cast<int>(s)]; }

bool SetLogFile(const std::string& path) {
  Sink& s = sink();
  std::lock_guard<std::mutex> g(s.mu);
  if (s.out) fclose(s.out);
  s.out = nullptr;
  if (path.empty()) return true;
  s.out = fopen(path.c_str(), "ae");
  return s.out != nullptr;
}

void SetProcessTag(std::string tag) {
  Sink& s = sink();
  std::lock_guard<std::mutex> g(s.mu);
  s.tag = std::move(tag);
}

Line::Line(Subsys s, Level l, const char* file, int line) : subsys_(s), level_(l) {
  const char* base = file;
  for (const char* p = file; *p; ++p)
    if (*p == '/') base = p + 1;
  os_ << base << ':' << line << ' ';
}

Line::~Line() {
  auto now = std::chrono::system_clock::now();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(us / 1000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char ts[64];
  snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(us % 1000000));
  Sink& s = sink();
  std::string body = os_.str();
  std::lock_guard<std::mutex> g(s.mu);
  FILE* out = s.out ? s.out : stderr;
  fprintf(out, "%s %s %c %s %s\n", ts, s.tag.empty() ? "-" : s.tag.c_str(), kLevelChars[level_],
          kSubsysNames[static_cast<int>(subsys_)], body.c_str());
  fflush(out);
}

}  // namespace nacre::log
