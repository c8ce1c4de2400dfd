// util.h helpers that report failures through the event.h log callback.
#include <event2/event.h>
#include <event2/util.h>
#include <gtest/gtest.h>

#include "helpers.h"

namespace {

TEST(SocketFlags, BadDescriptorLogsOneWarningEach) {
    conf::LogCapture log;
    EXPECT_EQ(evutil_make_socket_nonblocking(-1), -1);
    EXPECT_EQ(evutil_make_socket_closeonexec(-1), -1);
    EXPECT_EQ(log.messages().size(), 2u);
    for (auto &m : log.messages()) EXPECT_EQ(m.first, EVENT_LOG_WARN) << m.second;
    EXPECT_EQ(evutil_closesocket(-1), -1);
}

}  // namespace
