/**
 * The NIST curves of our key types, for the two checks OpenSSL makes when it decodes an EC key that
 * the pre-check's own reading must make too: the public point lies on the curve with coordinates
 * below p (EC_POINT_oct2point), and — stricter than OpenSSL, so never looser — 0 < d < n.
 * Constants from SEC 2 / FIPS 186-4 (`openssl ecparam -name … -param_enc explicit -text` prints them).
 */
import { equal, OID_P256, OID_P384, type Tlv } from "./der.js";

export interface Curve {
  oid: Uint8Array;
  size: number; // bytes of a coordinate and of d
  p: bigint;
  b: bigint; // a = -3 on both
  n: bigint;
}

const P256: Curve = {
  oid: OID_P256,
  size: 32,
  p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
  b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
};
const P384: Curve = {
  oid: OID_P384,
  size: 48,
  p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
  b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
};

/** The curve an OBJECT IDENTIFIER names, or null for any other. */
export function curveOf(der: Uint8Array, oid: Tlv): Curve | null {
  return equal(der, oid, P256.oid) ? P256 : equal(der, oid, P384.oid) ? P384 : null;
}

const big = (b: Uint8Array) => (b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex")}`));

/** An uncompressed point (04 ‖ x ‖ y) on the curve, both coordinates below p. */
export function onCurve(c: Curve, point: Uint8Array): boolean {
  if (point.length !== 1 + 2 * c.size || point[0] !== 4) return false;
  const x = big(point.subarray(1, 1 + c.size));
  const y = big(point.subarray(1 + c.size));
  if (x >= c.p || y >= c.p) return false;
  return (y * y - (x * x * x - 3n * x + c.b)) % c.p === 0n;
}

/** A private scalar of exactly the curve's size with 0 < d < n. */
export function validScalar(c: Curve, d: Uint8Array): boolean {
  if (d.length !== c.size) return false;
  const v = big(d);
  return v > 0n && v < c.n;
}
