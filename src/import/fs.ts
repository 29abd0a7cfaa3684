/**
 * The importer's only seam with the file system: read a text file, list a directory. The core
 * takes a `FileReader`; `denoFileReader()` is the real one, `memoryFileReader()` the fake for tests.
 * @module
 */

/** Read-only access to a configuration tree. */
export interface FileReader {
  /** The file's text, or `null` when it does not exist. Throws when larger than `maxBytes`. */
  read(path: string, maxBytes: number): Promise<string | null>;
  /** Names of the entries of `dir` (not sorted), or `[]` when it does not exist. */
  list(dir: string): Promise<string[]>;
}

/** A `FileReader` over the real file system (needs read permission only). */
export function denoFileReader(): FileReader {
  return {
    async read(path, maxBytes) {
      let file: Deno.FsFile;
      try {
        file = await Deno.open(path, { read: true });
      } catch (e) {
        if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
          return null;
        }
        throw e;
      }
      try {
        const info = await file.stat();
        if (!info.isFile) return null;
        if (info.size > maxBytes) {
          throw new Error(`${path}: expected at most ${maxBytes} bytes, found ${info.size}`);
        }
        const bytes = new Uint8Array(info.size);
        let got = 0;
        while (got < bytes.length) {
          const n = await file.read(bytes.subarray(got));
          if (n === null) break;
          got += n;
        }
        return new TextDecoder().decode(bytes.subarray(0, got));
      } finally {
        file.close();
      }
    },
    async list(dir) {
      const names: string[] = [];
      try {
        for await (const e of Deno.readDir(dir)) if (e.isFile || e.isSymlink) names.push(e.name);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return [];
        throw e;
      }
      return names;
    },
  };
}

/** A `FileReader` over an in-memory map of absolute path → text (for tests). */
export function memoryFileReader(files: Readonly<Record<string, string>>): FileReader {
  return {
    read(path, maxBytes) {
      const text = Object.hasOwn(files, path) ? files[path]! : null;
      if (text !== null && text.length > maxBytes) {
        return Promise.reject(new Error(`${path}: expected at most ${maxBytes} bytes`));
      }
      return Promise.resolve(text);
    },
    list(dir) {
      const prefix = `${dir.replace(/\/+$/, "")}/`;
      return Promise.resolve(
        Object.keys(files).filter((p) =>
          p.startsWith(prefix) && !p.slice(prefix.length).includes("/")
        )
          .map((p) => p.slice(prefix.length)),
      );
    },
  };
}
