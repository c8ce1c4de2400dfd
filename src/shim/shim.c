/* libevent-2.1.so.7 is a shim with no code of its own: it NEEDs libevent_core and
 * libevent_extra, whose symbols the dynamic linker finds through the global scope. This
 * keeps one copy of reevent's global state even in programs that load both libevent and
 * libevent_core (for instance through libevent_pthreads). */
typedef int reevent_shim_has_no_code;
