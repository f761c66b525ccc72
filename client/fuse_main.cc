// nacre-fuse: mounts a Nacre filesystem through FUSE (libfuse3 low level).
//
//   nacre-fuse [-c CONF | -m MON[,MON]] [--id NAME] [-k KEYRING] [-r /path]
//              [--fs NAME] [--<config option> VALUE] MOUNTPOINT [-o opt,...] [-f] [-d]
//
// Without -f it forks, and the parent exits only once the child reports the
// mount ready (0) or failed (non-zero, with the child's one-line error), so
// `nacre-fuse ... && ls MOUNT` works. The child connects only after the fork
// (threads do not survive one). SIGTERM/SIGINT or `umount` end it cleanly.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "client/fuse_ops.h"
#include "common/config.h"
#include "common/log.h"

namespace {

struct Args {
  std::string conf, mon_host, id = "admin", name, keyring, root = "/", fs_name, mountpoint;
  std::vector<std::string> fuse_opts;
  std::vector<std::pair<std::string, std::string>> options;  // --<option> VALUE
  bool foreground = false, debug = false;
};

const char kUsage[] =
    "usage: nacre-fuse [-c CONF | -m MON[,MON]] [--id NAME] [-k KEYRING] [-r /path] [--fs NAME]\n"
    "                  MOUNTPOINT [-o fuse options] [-f] [-d]\n";

bool Parse(int argc, char** argv, Args* a, std::string* err) {
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    auto next = [&](std::string* out) {
      if (i + 1 >= argc) {
        *err = s + " needs a value";
        return false;
      }
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (s == "-c" || s == "--conf") {
      if (!next(&a->conf)) return false;
    } else if (s == "-m" || s == "--mon-host") {
      if (!next(&a->mon_host)) return false;
    } else if (s == "--id" || s == "-i") {
      if (!next(&a->id)) return false;
    } else if (s == "-n" || s == "--name") {
      if (!next(&a->name)) return false;
    } else if (s == "-k" || s == "--keyring") {
      if (!next(&a->keyring)) return false;
    } else if (s == "-r" || s == "--root") {
      if (!next(&a->root)) return false;
    } else if (s == "--fs" || s == "--client_fs") {
      if (!next(&a->fs_name)) return false;
    } else if (s == "-o") {
      if (!next(&v)) return false;
      a->fuse_opts.push_back(v);
    } else if (s == "-f") {
      a->foreground = true;
    } else if (s == "-d") {
      a->foreground = a->debug = true;
    } else if (s == "-h" || s == "--help") {
      std::cout << kUsage;
      std::exit(0);
    } else if (s.size() > 2 && s.compare(0, 2, "--") == 0) {
      // Any config option: --client_mount_timeout 10 or --debug_client=debug.
      size_t eq = s.find('=');
      if (eq != std::string::npos) {
        a->options.emplace_back(s.substr(2, eq - 2), s.substr(eq + 1));
      } else {
        if (!next(&v)) return false;
        a->options.emplace_back(s.substr(2), v);
      }
    } else if (!s.empty() && s[0] == '-') {
      *err = "unknown option " + s;
      return false;
    } else if (a->mountpoint.empty()) {
      a->mountpoint = s;
    } else {
      *err = "unexpected argument " + s;
      return false;
    }
  }
  if (a->mountpoint.empty()) {
    *err = "no mount point given";
    return false;
  }
  return true;
}

nacre::Result<nacre::Config> MakeConfig(const Args& a) {
  nacre::Config cfg(a.name.empty() ? "client." + a.id : a.name);
  std::string conf = a.conf;
  if (conf.empty()) {
    const char* env = getenv("NACRE_CONF");
    conf = env ? env : "/etc/nacre/nacre.conf";
    if (!std::ifstream(conf) && !a.mon_host.empty()) conf.clear();
  }
  if (!conf.empty()) NACRE_RETURN_IF_ERROR(cfg.ApplyFile(conf));
  if (!a.mon_host.empty()) NACRE_RETURN_IF_ERROR(cfg.Set("mon_host", a.mon_host));
  if (!a.keyring.empty()) NACRE_RETURN_IF_ERROR(cfg.Set("keyring", a.keyring));
  for (const auto& [k, v] : a.options) NACRE_RETURN_IF_ERROR(cfg.Set(k, v));
  if (!cfg.IsSet("rados_osd_op_timeout")) NACRE_RETURN_IF_ERROR(cfg.Set("rados_osd_op_timeout", "120"));
  if (!a.debug) NACRE_RETURN_IF_ERROR(cfg.Set("log_level", "warn"));
  NACRE_RETURN_IF_ERROR(cfg.ApplyLogging());
  return cfg;
}

// Mounts and serves until unmounted. `ready` is called once with "" when
// the mount is in place, or with the error; returns the exit code.
int Serve(const Args& a, const std::function<void(const std::string&)>& ready) {
  auto cfg = MakeConfig(a);
  if (!cfg.ok()) {
    ready(cfg.status().ToString());
    return 1;
  }
  nacre::fs::FsClient client;
  nacre::fs::FsClient::MountOptions mo;
  mo.fs_name = a.fs_name;
  mo.root = a.root;
  nacre::Status s = client.Mount(*cfg, mo);
  if (!s.ok()) {
    ready("mount failed: " + s.ToString());
    return 1;
  }
  nacre::fuse::FuseContext ctx;
  ctx.fs = &client;

  std::vector<std::string> argv_s = {"nacre-fuse", "-o", "default_permissions,fsname=nacre,subtype=nacre,max_read=1048576"};
  if (geteuid() == 0) argv_s.back() += ",allow_other";
  for (const auto& o : a.fuse_opts) {
    argv_s.push_back("-o");
    argv_s.push_back(o);
  }
  if (a.debug) argv_s.push_back("-d");
  std::vector<char*> argv;
  for (auto& x : argv_s) argv.push_back(x.data());
  fuse_args fargs = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  const fuse_lowlevel_ops& ops = nacre::fuse::Operations();
  fuse_session* se = fuse_session_new(&fargs, &ops, sizeof(ops), &ctx);
  if (!se) {
    ready("bad FUSE options");
    client.Unmount();
    return 1;
  }
  int rc = 1;
  if (fuse_set_signal_handlers(se) != 0) {
    ready("cannot install signal handlers");
  } else if (fuse_session_mount(se, a.mountpoint.c_str()) != 0) {
    ready("cannot mount on " + a.mountpoint);
    fuse_remove_signal_handlers(se);
  } else {
    ready("");
    fuse_loop_config* lc = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(lc, 16);
    rc = fuse_session_loop_mt(se, lc) == 0 ? 0 : 1;
    fuse_loop_cfg_destroy(lc);
    fuse_session_unmount(se);
    fuse_remove_signal_handlers(se);
  }
  fuse_session_destroy(se);
  fuse_opt_free_args(&fargs);
  client.Unmount();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  std::string err;
  if (!Parse(argc, argv, &a, &err)) {
    std::cerr << "nacre-fuse: " << err << "\n" << kUsage;
    return 2;
  }
  struct stat st;
  if (stat(a.mountpoint.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    std::cerr << "nacre-fuse: mount point " << a.mountpoint << " is not a directory\n";
    return 1;
  }
  if (a.foreground) {
    return Serve(a, [](const std::string& e) {
      if (!e.empty()) std::cerr << "nacre-fuse: " << e << "\n";
    });
  }
  int fds[2];
  if (pipe(fds) != 0) {
    std::perror("nacre-fuse: pipe");
    return 1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("nacre-fuse: fork");
    return 1;
  }
  if (pid > 0) {
    // Parent: wait for the child's verdict ("" = mounted).
    close(fds[1]);
    std::string msg;
    char buf[512];
    ssize_t n;
    bool got = false;
    while ((n = read(fds[0], buf, sizeof(buf))) > 0) {
      got = true;
      msg.append(buf, static_cast<size_t>(n));
      if (msg.find('\n') != std::string::npos) break;
    }
    if (!got) {
      std::cerr << "nacre-fuse: the mount process exited without mounting\n";
      return 1;
    }
    if (msg != "\n") {
      std::cerr << "nacre-fuse: " << msg;
      return 1;
    }
    return 0;
  }
  close(fds[0]);
  setsid();
  int wfd = fds[1];
  return Serve(a, [wfd](const std::string& e) {
    std::string line = e + "\n";
    (void)!write(wfd, line.data(), line.size());
    close(wfd);
    if (e.empty()) {
      // Detach from the terminal only once the mount is ready.
      int nul = open("/dev/null", O_RDWR);
      if (nul >= 0) {
        dup2(nul, 0);
        dup2(nul, 1);
        dup2(nul, 2);
        if (nul > 2) close(nul);
      }
    }
  });
}
