// Shared gtest main for both conformance sides. Ignores SIGPIPE as most network programs
// do, so a test writing to a closed socket sees EPIPE instead of dying.
#include <gtest/gtest.h>

#include <csignal>

int main(int argc, char **argv) {
    std::signal(SIGPIPE, SIG_IGN);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
