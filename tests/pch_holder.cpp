// The program that compiles tests/pch.h for a group of test programs (reevent_test_pch in
// tests/CMakeLists.txt): it has their compile settings and nothing else, so building any
// one test program builds no other.
int main() { return 0; }
