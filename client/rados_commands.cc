// `nacre rados -p POOL put|get|rm|ls|stat|setxattr|getxattr|listomapkeys|
// setomapval|getomapval|bench|cleanup`, as Ceph's `rados` tool spells them.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "client/rados_cli.h"
#include "common/config.h"

namespace nacre::cli {

namespace {

// put/get move data in pieces of this size, as Ceph's tool does, so an
// object of any size stays under the messenger's frame limit.
constexpr uint64_t kChunk = 4 << 20;

Result<std::string> ReadInput(const std::string& path) {
  std::ostringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound("cannot open " + path);
  ss << f.rdbuf();
  if (f.bad()) return IOError("cannot read " + path);
  return ss.str();
}

// "2026-11-25T10:11:12.123456+0000", Ceph's stat time format.
std::string FormatTime(uint64_t ns) {
  time_t secs = static_cast<time_t>(ns / 1000000000);
  struct tm tm {};
  localtime_r(&secs, &tm);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char zone[16];
  strftime(zone, sizeof zone, "%z", &tm);
  std::ostringstream os;
  os << buf << "." << std::setw(6) << std::setfill('0') << (ns % 1000000000) / 1000 << zone;
  return os.str();
}

// Ceph prints omap values as a hexdump: offset, 16 bytes in hex, then text.
std::string HexDump(const std::string& v) {
  std::ostringstream os;
  for (size_t off = 0; off < v.size(); off += 16) {
    os << std::hex << std::setw(8) << std::setfill('0') << off << "  ";
    for (size_t i = 0; i < 16; ++i) {
      if (off + i < v.size())
        os << std::setw(2) << static_cast<unsigned>(static_cast<unsigned char>(v[off + i])) << " ";
      else
        os << "   ";
      if (i == 7) os << " ";
    }
    os << " |";
    for (size_t i = 0; i < 16 && off + i < v.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(v[off + i]);
      os << (c >= 32 && c < 127 ? static_cast<char>(c) : '.');
    }
    os << "|\n";
  }
  os << std::hex << std::setw(8) << std::setfill('0') << v.size() << "\n";
  return os.str();
}

struct Args {
  std::string pool;
  std::string nspace;
  std::string obj, file, name, value;
  bool have_value = false;
  BenchArgs bench;
  std::string bench_seconds, bench_size;
  std::string run_name;
};

// Opens the pool, or fails with a one-line reason.
Result<rados::IoCtx> Open(const Context& ctx, const Args& a, std::unique_ptr<rados::Rados>* rados) {
  if (a.pool.empty()) return Invalid("pool name was not specified (-p POOL)");
  NACRE_ASSIGN_OR_RETURN(*rados, ConnectRados(ctx));
  NACRE_ASSIGN_OR_RETURN(rados::IoCtx io, (*rados)->CreateIoCtx(a.pool));
  io.SetNamespace(a.nspace);
  return io;
}

Status Put(rados::IoCtx& io, const Args& a) {
  NACRE_ASSIGN_OR_RETURN(std::string data, ReadInput(a.file));
  Bytes all(std::move(data));
  // First piece replaces the object (an empty input makes an empty object).
  NACRE_RETURN_IF_ERROR(io.WriteFull(a.obj, all.Slice(0, kChunk)));
  for (uint64_t off = kChunk; off < all.size(); off += kChunk) NACRE_RETURN_IF_ERROR(io.Write(a.obj, all.Slice(off, kChunk), off));
  return Status::OK();
}

Status Get(rados::IoCtx& io, const Args& a) {
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (a.file != "-") {
    file.open(a.file, std::ios::binary | std::ios::trunc);
    if (!file) return IOError("cannot write " + a.file);
    out = &file;
  }
  NACRE_ASSIGN_OR_RETURN(auto st, io.Stat(a.obj));
  for (uint64_t off = 0; off < st.size; off += kChunk) {
    NACRE_ASSIGN_OR_RETURN(Bytes piece, io.Read(a.obj, off, kChunk));
    out->write(piece.data(), static_cast<std::streamsize>(piece.size()));
    if (piece.size() < kChunk) break;  // the object shrank under us
  }
  out->flush();
  if (!*out) return IOError("cannot write " + a.file);
  return Status::OK();
}

void Run(Context& ctx, Args& a, const std::string& cmd) {
  std::unique_ptr<rados::Rados> rados;
  auto io = Open(ctx, a, &rados);
  if (!io.ok()) return ctx.Fail(io.status());
  Status s;
  if (cmd == "put") {
    s = Put(*io, a);
  } else if (cmd == "get") {
    s = Get(*io, a);
  } else if (cmd == "rm") {
    s = io->Remove(a.obj);
  } else if (cmd == "ls") {
    auto list = io->ListObjects();
    if (!list.ok()) return ctx.Fail(list.status());
    if (ctx.json()) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& e : *list) j.push_back({{"namespace", e.nspace}, {"name", e.oid}});
      ctx.PrintJson(j);
    } else {
      for (const auto& e : *list) std::cout << e.oid << "\n";
    }
  } else if (cmd == "stat") {
    auto st = io->Stat(a.obj);
    if (!st.ok()) return ctx.Fail(st.status());
    if (ctx.json())
      ctx.PrintJson({{"pool", a.pool}, {"name", a.obj}, {"mtime", FormatTime(st->mtime_ns)}, {"size", st->size}});
    else
      std::cout << a.pool << "/" << a.obj << " mtime " << FormatTime(st->mtime_ns) << ", size " << st->size << "\n";
  } else if (cmd == "setxattr") {
    s = io->SetXattr(a.obj, a.name, a.value);
  } else if (cmd == "getxattr") {
    auto v = io->GetXattr(a.obj, a.name);
    if (!v.ok()) return ctx.Fail(v.status());
    std::cout << *v << "\n";
  } else if (cmd == "listomapkeys") {
    auto keys = io->OmapGetKeys(a.obj);
    if (!keys.ok()) return ctx.Fail(keys.status());
    if (ctx.json()) {
      ctx.PrintJson(nlohmann::json(*keys));
    } else {
      for (const auto& k : *keys) std::cout << k << "\n";
    }
  } else if (cmd == "setomapval") {
    std::string value = a.value;
    if (!a.have_value) {
      auto in = ReadInput("-");
      if (!in.ok()) return ctx.Fail(in.status());
      value = *in;
    }
    s = io->OmapSet(a.obj, {{a.name, value}});
  } else if (cmd == "getomapval") {
    auto kv = io->OmapGetValsByKeys(a.obj, {a.name});
    if (!kv.ok()) return ctx.Fail(kv.status());
    auto it = kv->find(a.name);
    if (it == kv->end()) return ctx.Fail(NotFound("no key '" + a.name + "' in the omap of " + a.obj));
    std::cout << "value (" << it->second.size() << " bytes) :\n" << HexDump(it->second) << "\n";
  }
  if (!s.ok()) ctx.Fail(s);
}

}  // namespace

Result<std::unique_ptr<rados::Rados>> ConnectRados(const Context& ctx) {
  Config cfg(ctx.name);
  std::string conf = ctx.conf;
  if (conf.empty()) {
    const char* env = getenv("NACRE_CONF");
    conf = env ? env : "/etc/nacre/nacre.conf";
    if (!std::ifstream(conf) && !ctx.mon_host.empty()) conf.clear();
  }
  if (!conf.empty()) NACRE_RETURN_IF_ERROR(cfg.ApplyFile(conf));
  if (!ctx.mon_host.empty()) NACRE_RETURN_IF_ERROR(cfg.Set("mon_host", ctx.mon_host));
  if (!ctx.keyring.empty()) NACRE_RETURN_IF_ERROR(cfg.Set("keyring", ctx.keyring));
  if (!cfg.IsSet("rados_osd_op_timeout")) NACRE_RETURN_IF_ERROR(cfg.Set("rados_osd_op_timeout", "120"));
  // A CLI's stderr is for its one-line errors: the daemons' `log level` in
  // [global] does not apply here (debug_<subsys> still does).
  NACRE_RETURN_IF_ERROR(cfg.Set("log_level", "warn"));
  NACRE_RETURN_IF_ERROR(cfg.ApplyLogging());
  auto r = std::make_unique<rados::Rados>();
  NACRE_RETURN_IF_ERROR(r->Connect(cfg, ctx.timeout_secs));
  return r;
}

void RegisterRadosCommands(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<Args>();
  CLI::App* rados = app.add_subcommand("rados", "object commands (Ceph's `rados` tool)");
  rados->fallthrough();
  rados->require_subcommand(1);
  rados->add_option("-p,--pool", a->pool, "pool");
  rados->add_option("-N,--namespace", a->nspace, "object namespace");

  auto add = [&](const char* name, const char* help, std::vector<std::pair<const char*, std::string*>> pos,
                 bool optional_value = false) {
    CLI::App* sub = rados->add_subcommand(name, help);
    sub->fallthrough();
    for (auto& [pname, dest] : pos) {
      auto* opt = sub->add_option(pname, *dest, pname);
      if (optional_value && dest == &a->value)
        opt->each([a](const std::string&) { a->have_value = true; });
      else
        opt->required();
    }
    sub->callback([&ctx, a, name] { Run(ctx, *a, name); });
  };
  add("put", "write an object from FILE (- for stdin)", {{"obj", &a->obj}, {"file", &a->file}});
  add("get", "read an object into FILE (- for stdout)", {{"obj", &a->obj}, {"file", &a->file}});
  add("rm", "remove an object", {{"obj", &a->obj}});
  add("ls", "list the objects of the pool", {});
  add("stat", "show an object's size and mtime", {{"obj", &a->obj}});
  add("setxattr", "set an extended attribute", {{"obj", &a->obj}, {"name", &a->name}, {"value", &a->value}});
  add("getxattr", "print an extended attribute", {{"obj", &a->obj}, {"name", &a->name}});
  add("listomapkeys", "list the omap keys of an object", {{"obj", &a->obj}});
  add("setomapval", "set an omap value (VALUE or stdin)", {{"obj", &a->obj}, {"key", &a->name}, {"value", &a->value}},
      true);
  add("getomapval", "print an omap value", {{"obj", &a->obj}, {"key", &a->name}});

  CLI::App* bench = rados->add_subcommand("bench", "benchmark: bench SECONDS write|seq|rand [-b SIZE] [-t N]");
  bench->fallthrough();
  bench->add_option("seconds", a->bench_seconds, "seconds to run")->required();
  bench->add_option("mode", a->bench.mode, "write, seq or rand")->required();
  bench->add_option("-b", a->bench_size, "op size (bytes, or 4K, 4M...; default 4M)");
  bench->add_option("-t,--concurrent-ios", a->bench.threads, "operations in flight (default 16)");
  bench->add_flag("--no-cleanup", a->bench.no_cleanup, "keep the written objects (for seq and rand)");
  bench->add_option("--run-name", a->run_name, "name of the object holding the run's metadata");
  bench->callback([&ctx, a] {
    BenchArgs b = a->bench;
    b.pool = a->pool;
    b.run_name = a->run_name;
    char* end = nullptr;
    b.seconds = strtod(a->bench_seconds.c_str(), &end);
    if (a->bench_seconds.empty() || *end != '\0' || b.seconds <= 0)
      return ctx.Fail(Invalid("bench: SECONDS must be a positive number, not '" + a->bench_seconds + "'"));
    if (b.mode != "write" && b.mode != "seq" && b.mode != "rand")
      return ctx.Fail(Invalid("bench: mode must be write, seq or rand, not '" + b.mode + "'"));
    if (!a->bench_size.empty()) {
      auto size = ParseSize(a->bench_size);
      if (!size.ok() || *size <= 0 || *size > (64 << 20))
        return ctx.Fail(Invalid("bench: -b must be a size from 1 byte to 64M, not '" + a->bench_size + "'"));
      b.op_size = static_cast<uint64_t>(*size);
    }
    if (b.threads < 1 || b.threads > 1024) return ctx.Fail(Invalid("bench: -t must be 1..1024"));
    if (b.pool.empty()) return ctx.Fail(Invalid("pool name was not specified (-p POOL)"));
    RunBench(ctx, b);
  });
  CLI::App* cleanup = rados->add_subcommand("cleanup", "remove the objects a `bench write --no-cleanup` left");
  cleanup->fallthrough();
  cleanup->add_option("--run-name", a->run_name, "name of the object holding the run's metadata");
  cleanup->callback([&ctx, a] {
    if (a->pool.empty()) return ctx.Fail(Invalid("pool name was not specified (-p POOL)"));
    RunBenchCleanup(ctx, a->pool, a->run_name);
  });
}

}  // namespace nacre::cli
