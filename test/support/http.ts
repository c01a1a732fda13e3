/** A response's JSON body, read as the shape the test expects of it. */
export async function jsonOf<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}
