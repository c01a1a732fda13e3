/** Binary and decimal suffixes of Kubernetes memory quantities (`512Mi`, `2G`), as multipliers of a byte. */
const MEMORY_UNITS: Record<string, number> = {
  "": 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The bytes a Kubernetes memory quantity names, or undefined when it is not one. */
export function memoryBytes(quantity: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(Ei|Pi|Ti|Gi|Mi|Ki|E|P|T|G|M|k|K)?$/.exec(quantity);
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * MEMORY_UNITS[m[2] ?? ""]!);
}

/** The millicores a Kubernetes CPU quantity names (`0.5` or `500m`: half a core), or undefined when it is not one. */
export function cpuMillicores(quantity: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(quantity);
  if (!m) return undefined;
  const millicores = m[2] ? Number(m[1]) : Number(m[1]) * 1000;
  return millicores > 0 ? Math.ceil(millicores) : undefined;
}
