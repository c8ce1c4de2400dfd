// Runs the programs in examples/ as a user would: start one on loopback, talk to it with
// raw sockets, check the replies, stop it with SIGINT/SIGTERM and expect a clean exit.
// Built once per library; EXAMPLES_DIR names the directory holding that side's binaries.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <initializer_list>
#include <random>
#include <string>
#include <thread>
#include <vector>

#ifndef EXAMPLES_DIR
#error "EXAMPLES_DIR must be defined by the build"
#endif

namespace {

double now_ms() {
    using namespace std::chrono;
    return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

// A child process running one example, with its stdout on a pipe.
class Program {
public:
    // env: extra NAME=VALUE settings for the child (e.g. EVENT_NOEPOLL=1 to pick a backend).
    explicit Program(std::vector<std::string> args, std::vector<std::string> env = {}) {
        std::string path = std::string(EXAMPLES_DIR) + "/" + args[0];
        int out[2];
        if (pipe2(out, O_CLOEXEC) != 0) return;
        pid_ = fork();
        if (pid_ == 0) {
            for (auto &e : env) putenv(e.data());
            dup2(out[1], 1);
            std::vector<char *> argv;
            for (auto &a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            execv(path.c_str(), argv.data());
            _exit(127);
        }
        close(out[1]);
        out_ = out[0];
    }
    ~Program() {
        if (pid_ > 0 && status_ < 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (out_ >= 0) close(out_);
    }

    // Waits for "listening on port N (method)"; the port, or -1.
    int port(int timeout_ms = 5000) {
        banner_ = read_line(timeout_ms);
        int p = -1;
        char method[32] = "";
        if (std::sscanf(banner_.c_str(), "listening on port %d (%31[^)])", &p, method) != 2)
            return -1;
        method_ = method;
        return p;
    }
    // The backend the program reported.
    const std::string &method() const { return method_; }

    std::string read_line(int timeout_ms) {
        std::string line;
        double end = now_ms() + timeout_ms;
        char c;
        while (now_ms() < end) {
            pollfd p{out_, POLLIN, 0};
            if (poll(&p, 1, 50) != 1) continue;
            if (read(out_, &c, 1) != 1) break;
            if (c == '\n') return line;
            line += c;
        }
        return line;
    }

    // Sends sig and waits for the exit; the exit status, or -1 on a crash or a timeout.
    int stop(int sig, int timeout_ms = 5000) {
        kill(pid_, sig);
        return wait_exit(timeout_ms);
    }

    // Waits for a program that should exit on its own (bad usage).
    int wait_exit(int timeout_ms = 5000) {
        double end = now_ms() + timeout_ms;
        while (now_ms() < end) {
            int st;
            if (waitpid(pid_, &st, WNOHANG) == pid_) {
                status_ = st;
                return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        return -1;
    }

private:
    std::string banner_, method_;
    pid_t pid_ = -1;
    int out_ = -1;
    int status_ = -1;
};

int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(static_cast<uint16_t>(port));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

bool send_all(int fd, const std::string &s) {
    size_t off = 0;
    while (off < s.size()) {
        ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return false;
        off += static_cast<size_t>(n);
    }
    return true;
}

// Reads exactly n bytes (or until EOF / timeout).
std::string recv_n(int fd, size_t n, int timeout_ms = 5000) {
    std::string got;
    double end = now_ms() + timeout_ms;
    char buf[65536];
    while (got.size() < n && now_ms() < end) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 50) != 1) continue;
        ssize_t r = recv(fd, buf, std::min(sizeof buf, n - got.size()), 0);
        if (r <= 0) break;
        got.append(buf, static_cast<size_t>(r));
    }
    return got;
}

// Reads one line (without the "\n").
std::string recv_line(int fd, int timeout_ms = 5000) {
    std::string line;
    double end = now_ms() + timeout_ms;
    char c;
    while (now_ms() < end) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 50) != 1) continue;
        if (recv(fd, &c, 1, 0) != 1) break;
        if (c == '\n') return line;
        line += c;
    }
    return line + "<timeout or EOF>";
}

// Connects to the chat server on port and checks its greeting: "* you are user<n>".
int join_chat(int port, int n) {
    int fd = connect_to(port);
    EXPECT_EQ(recv_line(fd), "* you are user" + std::to_string(n));
    return fd;
}

// True if the peer closed (EOF) within the timeout.
bool sees_eof(int fd, int timeout_ms = 5000) {
    double end = now_ms() + timeout_ms;
    char buf[4096];
    while (now_ms() < end) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 50) != 1) continue;
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r == 0) return true;
        if (r < 0) return errno == ECONNRESET;
    }
    return false;
}

std::string random_bytes(size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto &c : s) c = static_cast<char>(rng());
    return s;
}

// Sends `data` from one thread while reading the same amount back, then half-closes.
std::string round_trip(int fd, const std::string &data) {
    std::thread writer([&] {
        send_all(fd, data);
        shutdown(fd, SHUT_WR);
    });
    std::string got = recv_n(fd, data.size(), 20000);
    writer.join();
    return got;
}

void close_all(std::initializer_list<int> fds) {
    for (int fd : fds) close(fd);
}

TEST(ExampleEchoServer, EchoesSeveralClientsAndStopsOnSigint) {
    Program server({"echo_server", "0"});
    int port = server.port();
    ASSERT_GT(port, 0);
    int a = connect_to(port), b = connect_to(port);
    ASSERT_GE(a, 0);
    ASSERT_GE(b, 0);
    ASSERT_TRUE(send_all(a, "hello from a"));
    ASSERT_TRUE(send_all(b, "and from b"));
    EXPECT_EQ(recv_n(b, 10), "and from b");
    EXPECT_EQ(recv_n(a, 12), "hello from a");
    close_all({a, b});
    EXPECT_EQ(server.stop(SIGINT), 0);
    EXPECT_EQ(server.read_line(1000), "bye");
}

TEST(ExampleEchoServer, LargeTransferWithHalfCloseComesBackWhole) {
    Program server({"echo_server", "0"});
    int port = server.port();
    ASSERT_GT(port, 0);
    int fd = connect_to(port);
    std::string data = random_bytes(8 << 20, 1);
    std::string got = round_trip(fd, data);
    EXPECT_EQ(got.size(), data.size());
    EXPECT_TRUE(got == data);
    EXPECT_TRUE(sees_eof(fd)) << "closed after the last echoed byte";
    close(fd);
    EXPECT_EQ(server.stop(SIGTERM), 0);
}

// The examples use event_base_new(), so the EVENT_NO* variables choose their backend.
struct BackendEnv {
    const char *label;
    std::vector<std::string> env;
    const char *method;  // what the program must report
};

class ExampleOnBackend : public ::testing::TestWithParam<BackendEnv> {};

TEST_P(ExampleOnBackend, EchoAndChatWork) {
    Program echo({"echo_server", "0"}, GetParam().env);
    int port = echo.port();
    ASSERT_GT(port, 0);
    EXPECT_EQ(echo.method(), GetParam().method);
    int fd = connect_to(port);
    std::string data = random_bytes(1 << 20, 3);
    EXPECT_TRUE(round_trip(fd, data) == data);
    close(fd);
    EXPECT_EQ(echo.stop(SIGINT), 0);

    Program chat({"chat_server", "0"}, GetParam().env);
    port = chat.port();
    ASSERT_GT(port, 0);
    EXPECT_EQ(chat.method(), GetParam().method);
    int a = join_chat(port, 1);
    int b = join_chat(port, 2);
    ASSERT_TRUE(send_all(b, "ping\n"));
    EXPECT_EQ(recv_line(a), "user2: ping");
    close_all({a, b});
    EXPECT_EQ(chat.stop(SIGTERM), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Backends, ExampleOnBackend,
    ::testing::Values(BackendEnv{"default", {}, "epoll"},
                      BackendEnv{"poll", {"EVENT_NOEPOLL=1"}, "poll"},
                      BackendEnv{"select", {"EVENT_NOEPOLL=1", "EVENT_NOPOLL=1"}, "select"}),
    [](const ::testing::TestParamInfo<BackendEnv> &info) { return std::string(info.param.label); });

TEST(ExampleEchoServer, StopsCleanlyWithClientsStillConnected) {
    Program server({"echo_server", "0"});
    int port = server.port();
    ASSERT_GT(port, 0);
    std::vector<int> fds;
    for (int i = 0; i < 20; ++i) {
        fds.push_back(connect_to(port));
        ASSERT_TRUE(send_all(fds.back(), "x"));
        EXPECT_EQ(recv_n(fds.back(), 1), "x");
    }
    EXPECT_EQ(server.stop(SIGINT), 0);
    for (int fd : fds) {
        EXPECT_TRUE(sees_eof(fd));
        close(fd);
    }
}

TEST(ExampleEchoServer, RejectsBadArguments) {
    Program none({"echo_server"});
    EXPECT_EQ(none.wait_exit(), 2);
    Program junk({"echo_server", "80x"});
    EXPECT_EQ(junk.wait_exit(), 2);
    Program range({"echo_server", "70000"});
    EXPECT_EQ(range.wait_exit(), 2);
}

TEST(ExampleChatServer, GreetsBroadcastsAndAnnouncesLeaving) {
    Program server({"chat_server", "0"});
    int port = server.port();
    ASSERT_GT(port, 0);
    int a = join_chat(port, 1);
    int b = join_chat(port, 2);
    int c = join_chat(port, 3);

    ASSERT_TRUE(send_all(a, "hello there\r\nsecond li"));
    EXPECT_EQ(recv_line(b), "user1: hello there");
    EXPECT_EQ(recv_line(c), "user1: hello there");
    ASSERT_TRUE(send_all(a, "ne\n"));
    EXPECT_EQ(recv_line(b), "user1: second line");
    EXPECT_EQ(recv_line(c), "user1: second line");
    ASSERT_TRUE(send_all(b, "hi a\n"));
    EXPECT_EQ(recv_line(a), "user2: hi a");
    EXPECT_EQ(recv_line(c), "user2: hi a");

    close(b);
    EXPECT_EQ(recv_line(a), "* user2 left");
    EXPECT_EQ(recv_line(c), "* user2 left");
    // The sender never gets its own lines back.
    pollfd p{a, POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 50), 0);
    close_all({a, c});
    EXPECT_EQ(server.stop(SIGTERM), 0);
    EXPECT_EQ(server.read_line(1000), "bye");
}

TEST(ExampleChatServer, OverlongLineDisconnectsOnlyItsSender) {
    Program server({"chat_server", "0"});
    int port = server.port();
    ASSERT_GT(port, 0);
    int a = join_chat(port, 1);
    int b = join_chat(port, 2);
    ASSERT_TRUE(send_all(b, std::string(10000, 'z')));
    EXPECT_TRUE(sees_eof(b));
    EXPECT_EQ(recv_line(a), "* user2 left");
    close_all({a, b});
    EXPECT_EQ(server.stop(SIGINT), 0);
}

// An echo_server with a tcp_proxy in front of it (a port is -1 when its program did not
// say it was listening).
struct ProxiedEcho {
    ProxiedEcho()
        : echo({"echo_server", "0"}),
          echo_port(echo.port()),
          proxy({"tcp_proxy", "0", "127.0.0.1:" + std::to_string(echo_port)}),
          port(proxy.port()) {}
    Program echo;
    int echo_port;
    Program proxy;
    int port;
};

TEST(ExampleTcpProxy, CarriesBothDirectionsAndHalfCloses) {
    ProxiedEcho p;
    ASSERT_GT(p.echo_port, 0);
    ASSERT_GT(p.port, 0);
    Program &echo = p.echo, &proxy = p.proxy;
    const int port = p.port;

    int small = connect_to(port);
    ASSERT_TRUE(send_all(small, "through the proxy"));
    EXPECT_EQ(recv_n(small, 17), "through the proxy");

    int fd = connect_to(port);
    std::string data = random_bytes(8 << 20, 2);
    std::string got = round_trip(fd, data);
    EXPECT_EQ(got.size(), data.size());
    EXPECT_TRUE(got == data);
    EXPECT_TRUE(sees_eof(fd));
    close_all({fd, small});
    EXPECT_EQ(proxy.stop(SIGINT), 0);
    EXPECT_EQ(proxy.read_line(1000), "bye");
    EXPECT_EQ(echo.stop(SIGINT), 0);
}

TEST(ExampleTcpProxy, ManyConcurrentSessions) {
    ProxiedEcho p;
    ASSERT_GT(p.echo_port, 0);
    ASSERT_GT(p.port, 0);
    Program &echo = p.echo, &proxy = p.proxy;
    const int port = p.port;
    std::vector<int> fds;
    for (int i = 0; i < 100; ++i) fds.push_back(connect_to(port));
    for (size_t i = 0; i < fds.size(); ++i)
        ASSERT_TRUE(send_all(fds[i], "session " + std::to_string(1000 + i)));
    for (size_t i = 0; i < fds.size(); ++i) {
        EXPECT_EQ(recv_n(fds[i], 12), "session " + std::to_string(1000 + i));
        close(fds[i]);
    }
    EXPECT_EQ(proxy.stop(SIGTERM), 0);
    EXPECT_EQ(echo.stop(SIGTERM), 0);
}

TEST(ExampleTcpProxy, UnreachableTargetClosesTheClient) {
    // A port nobody listens on: bind one, note it, close it.
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(probe, reinterpret_cast<sockaddr *>(&sin), sizeof sin);
    socklen_t len = sizeof sin;
    getsockname(probe, reinterpret_cast<sockaddr *>(&sin), &len);
    int dead_port = ntohs(sin.sin_port);
    close(probe);

    Program proxy({"tcp_proxy", "0", "[::ffff:127.0.0.1]:" + std::to_string(dead_port)});
    int port = proxy.port();
    ASSERT_GT(port, 0);
    int fd = connect_to(port);
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(sees_eof(fd));
    close(fd);
    EXPECT_EQ(proxy.stop(SIGINT), 0);
}

TEST(ExampleTcpProxy, RejectsBadTarget) {
    Program p({"tcp_proxy", "0", "not-an-address"});
    EXPECT_EQ(p.wait_exit(), 2);
}

}  // namespace
