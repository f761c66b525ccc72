// msg_relay: a dumb TCP forwarder to put between two messengers, so a test
// can kill -9 it (every socket through it dies mid-stream) and restart it on
// the same port.
//
//   msg_relay --port P --target HOST:PORT
//
// Prints "PORT <n>" once listening. Each accepted connection gets its own
// connection to the target and two threads copying bytes; when either side
// closes, both are closed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

namespace {

void Pump(int from, int to) {
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::recv(from, buf, sizeof buf, 0);
    if (n <= 0) break;
    char* p = buf;
    while (n > 0) {
      ssize_t w = ::send(to, p, static_cast<size_t>(n), MSG_NOSIGNAL);
      if (w <= 0) {
        n = -1;
        break;
      }
      p += w;
      n -= w;
    }
    if (n < 0) break;
  }
  // Wake the other direction too.
  ::shutdown(from, SHUT_RDWR);
  ::shutdown(to, SHUT_RDWR);
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  std::string target;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--port") port = std::atoi(argv[i + 1]);
    else if (k == "--target") target = argv[i + 1];
  }
  size_t colon = target.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "usage: msg_relay --port P --target HOST:PORT\n");
    return 2;
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(std::atoi(target.c_str() + colon + 1)));
  if (inet_pton(AF_INET, target.substr(0, colon).c_str(), &to.sin_addr) != 1) return 2;

  int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(l, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(l, 64) != 0) {
    std::perror("bind");
    return 1;
  }
  socklen_t len = sizeof sa;
  ::getsockname(l, reinterpret_cast<sockaddr*>(&sa), &len);
  std::printf("PORT %u\n", ntohs(sa.sin_port));
  std::fflush(stdout);
  for (;;) {
    int a = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
    if (a < 0) continue;
    int b = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(b, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
      ::close(a);
      ::close(b);
      continue;
    }
    ::setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Both threads share the two descriptors; the last one out closes them.
    auto fds = std::shared_ptr<int[]>(new int[2]{a, b}, [](int* f) {
      ::close(f[0]);
      ::close(f[1]);
      delete[] f;
    });
    std::thread([fds] { Pump(fds[0], fds[1]); }).detach();
    std::thread([fds] { Pump(fds[1], fds[0]); }).detach();
  }
}
