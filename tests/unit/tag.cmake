# The tag fuzz target as a plain program (random records compared with the real
# libevent_extra through dlopen).
reevent_fuzz_as_unit(unit_tag_diff SOURCE tag_fuzz.cpp DEFINE TAG_FUZZ_STANDALONE
  LIB event_extra_static TEST unit.TagDiff.MatchesLibeventOnRandomRecords AREA tag ARGS 50000)
