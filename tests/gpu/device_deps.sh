# shellcheck shell=bash
# Sourced by tests/gpu/device_check.sh: takes the build's dependencies from the Debian 12 .deb files
# of scripts/fetch-device-deps.sh on a machine that has a compiler, CMake and CUDA but not the
# -dev packages, and cannot install them.

# use_device_deps BUNDLE PREFIX: when BUNDLE holds .deb files, unpacks them under PREFIX (never
# into /, where they would overwrite the system's own files behind its package manager's back),
# adds to the array cmake_args what finds them there, and exports LD_LIBRARY_PATH for the bundled
# libraries that this machine lacks.
use_device_deps() {
  local bundle=$1 prefix=$2
  local debs=("$bundle"/*.deb)
  [[ -e ${debs[0]} ]] || return 0

  echo "dependencies from $bundle, unpacked into $prefix:"
  rm -rf "$prefix"
  mkdir -p "$prefix"
  local deb
  for deb in "${debs[@]}"; do
    dpkg-deb --extract "$deb" "$prefix" || return 1
    dpkg-deb --show --showformat='  ${Package} ${Version}\n' "$deb"
  done

  # Some -dev links are absolute (zlib's libz.so -> /lib/<multiarch>/libz.so.1.2.13): point them at
  # the unpacked file rather than at whatever this machine has there.
  local link
  while IFS= read -r link; do
    ln -sfn "$prefix$(readlink "$link")" "$link"
  done < <(find "$prefix" -type l -lname '/*')

  local libdir=("$prefix"/usr/lib/*-linux-gnu)
  local multiarch=${libdir[0]##*/}
  # Debian keeps some headers (OpenSSL's configuration.h, libjpeg's jconfig.h) under
  # include/<multiarch>, which the compiler searches by itself only below /usr.
  cmake_args+=(-DCMAKE_PREFIX_PATH="$prefix/usr"
               -DCMAKE_CXX_STANDARD_INCLUDE_DIRECTORIES="$prefix/usr/include/$multiarch")

  # The programs built here find the bundled libraries through their build RPATH, except those
  # that only other bundled libraries load (libOpenCL.so.1 for oneDNN). The other programs run here
  # (PyTorch) expect the machine's own copy of a library where it has one, which may be newer, so
  # only the libraries it lacks go on LD_LIBRARY_PATH, one link per soname.
  local runtime=$prefix/runtime lib soname installed
  mkdir -p "$runtime"
  installed=$( (ldconfig -p || /sbin/ldconfig -p) 2>/dev/null | awk 'NR > 1 {print $1}')
  for lib in "$prefix"/{usr/,}lib/"$multiarch"/lib*.so.*; do
    [[ -f $lib && ! -L $lib ]] || continue
    soname=$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')
    if [[ -n $soname ]] && ! grep -qxF "$soname" <<<"$installed"; then
      ln -sf "$lib" "$runtime/$soname"
    fi
  done
  local lacking
  lacking=$(ls "$runtime" | paste -sd ' ')
  echo "libraries this machine lacks, loaded from the bundle: ${lacking:-none}"
  export LD_LIBRARY_PATH=$runtime${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
}
