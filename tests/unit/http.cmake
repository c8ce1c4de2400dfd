# The http helpers' fuzz target as a plain program (random URI-shaped inputs, compared with
# the real libevent_extra through dlopen).
reevent_fuzz_as_unit(unit_http_uri_diff SOURCE http_uri_fuzz.cpp DEFINE HTTP_FUZZ_STANDALONE
  LIB event_extra_static TEST unit.HttpUriDiff.MatchesLibeventOnRandomInput AREA http ARGS 100000)
