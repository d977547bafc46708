// The static binary the container benchmark starts: exits at once, or with
// an argument waits for a signal. Linked statically, without sanitizers, so
// that its own start costs as little as the kernel allows.

#include <unistd.h>

int main(int argc, char**) {
  if (argc > 1) ::pause();
  return 0;
}
