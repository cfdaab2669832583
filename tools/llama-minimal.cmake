# Included right after llama.cpp's own project() call (setup.sh passes
# -DCMAKE_PROJECT_llama.cpp_INCLUDE=<this file>). llama-cpp-python forces LLAMA_BUILD_COMMON=ON, but its
# bindings load only libllama and libggml*: llama.cpp's `common` library (51 of the 178 objects a default
# build compiles, and cpp-httplib with it) is never loaded, so it is not built.
set(LLAMA_BUILD_COMMON OFF CACHE BOOL "llama: build common utils library" FORCE)
