// An OpenSSL BIO whose bytes are the buffers of a bufferevent ("the underlying"): reads take
// ciphertext from its input, writes append ciphertext to its output. The BIO holds a
// reference on that bufferevent, so an SSL object the caller keeps after freeing the TLS
// bufferevent (sslsplit shuts it down afterwards) never reaches freed memory.
#pragma once

#include <openssl/bio.h>

#include "bufferevent/kit.h"

namespace reevent::ssl {

struct Link {
    bev::Bev *under = nullptr;
    const bev::Kit *kit = nullptr;
    bool eof = false;  // the underlying reported EOF: reads past its data return 0
    // Told when OpenSSL frees the BIO while `owner` is set: the caller replaced the SSL's BIO
    // (SSL_set_bio). The TLS bufferevent clears `owner` before it frees the BIO itself.
    void (*gone)(void *owner) = nullptr;
    void *owner = nullptr;
    BIO *bio = nullptr;  // the BIO this is the data of (alive as long as the Link)
};

// A new BIO over `under` (a reference is taken); null on allocation failure.
BIO *link_bio_new(bev::Bev *under, const bev::Kit *kit) noexcept;
// The link of a BIO made by link_bio_new, else null.
Link *link_of(BIO *bio) noexcept;

}  // namespace reevent::ssl
