# nix/lib.nix applied to nix/fixtures/example-certs.nix must give exactly the JSON files in
# nix/fixtures/ (compared as JSON values, not bytes), and the fixture must have no problems.
# builtins only:
#
#   nix-instantiate --eval --strict --json nix/tests/fixtures.nix     # => [] when all match
let
  inherit (builtins)
    attrNames
    filter
    fromJSON
    listToAttrs
    match
    readDir
    readFile
    toJSON
    ;
  l = import ../lib.nix;
  fixture = import ../fixtures/example-certs.nix;
  generated = l.configFiles fixture;
  jsonFiles = filter (f: match ".*\\.json" f != null) (attrNames (readDir ../fixtures));
  expected = listToAttrs (
    map (f: {
      name = f;
      value = fromJSON (readFile (../fixtures + "/${f}"));
    }) jsonFiles
  );
  names = l.unique (attrNames generated ++ jsonFiles);
  compare =
    f:
    if !(generated ? ${f}) then
      "nix/fixtures/${f}: no certificate in example-certs.nix generates it"
    else if !(expected ? ${f}) then
      "nix/fixtures/${f} is missing; lib.nix generates ${toJSON generated.${f}}"
    else if generated.${f} != expected.${f} then
      "nix/fixtures/${f}: lib.nix generates ${toJSON generated.${f}}, the fixture says ${toJSON expected.${f}}"
    else
      null;
in
filter (x: x != null) (map compare names)
++ map (p: "example-certs.nix: ${p}") (l.problems fixture)
