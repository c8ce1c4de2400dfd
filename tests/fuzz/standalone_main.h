// Included at the end of a fuzz target built with -DFUZZ_STANDALONE: a plain program that
// runs the inputs named on its command line, so the same target built against the system
// libevent (g++ -DFUZZ_STANDALONE x.cpp -levent) shows what libevent does with an input.
#pragma once

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

int main(int argc, char **argv) {
    for (int i = 1; i < argc; ++i) {
        std::ifstream f(argv[i], std::ios::binary);
        std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(s.data()), s.size());
        std::printf("ran %s\n", argv[i]);
    }
    return 0;
}
