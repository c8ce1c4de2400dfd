// The precompiled header of the C++ test programs (tests/conformance, tests/unit): GoogleTest
// and the standard headers most test files include. Parsing <gtest/gtest.h> alone costs
// about 1.5 s of CPU per file; compiled once per side and reused by every test program of
// that side (REEVENT_TEST_PCH, tests/CMakeLists.txt), it is parsed once. Every test file
// still includes what it uses, so the tests build the same without it
// (-DREEVENT_TEST_PCH=OFF). No libevent header here: the two conformance sides take those
// from different places.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>
