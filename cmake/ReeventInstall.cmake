# Install rules: headers, libraries, pkg-config files and the CMake package (filled in by
# the packaging work).
