/* Placeholder until evthread_use_pthreads lands (src/capi/thread_pthreads_capi.cpp). */
typedef int reevent_pthreads_placeholder;
