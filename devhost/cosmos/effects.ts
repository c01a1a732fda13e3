import { parsePartitionKey, type EmulatedAccount } from "./emulator-internals.js";

type Doc = Record<string, unknown>;

/**
 * A change of state, recorded after the emulator applied it. Effects hold resulting states,
 * not requests: replaying them needs no preconditions (ETags change on replay), and a batch's
 * failed operations leave no trace.
 */
export type Effect =
  | { k: "db"; body: Doc }
  | { k: "dbdel"; db: string }
  | { k: "coll"; db: string; body: Doc }
  | { k: "colldel"; db: string; coll: string }
  | { k: "doc"; db: string; coll: string; body: Doc }
  | { k: "docdel"; db: string; coll: string; id: string; pk: unknown };

export function applyEffect(account: EmulatedAccount, e: Effect): void {
  switch (e.k) {
    case "db":
      if (!account.database(String(e.body.id)).read()) account.databases.create(e.body);
      return;
    case "dbdel":
      if (account.database(e.db).read()) account.databases.delete(e.db, e.db);
      return;
    case "coll": {
      const db = account.database(e.db);
      const existing = db.collection(String(e.body.id)).read();
      if (existing) db.collections.replace(e.body, existing);
      else db.collections.create(e.body);
      return;
    }
    case "colldel": {
      const db = account.database(e.db);
      if (db.collection(e.coll).read()) db.collections.delete(e.coll, e.coll);
      return;
    }
    case "doc":
      account.database(e.db).collection(e.coll).documents.upsert(e.body);
      return;
    case "docdel": {
      const coll = account.database(e.db).collection(e.coll);
      const pk = parsePartitionKey(e.pk, e.id);
      if (coll.document(e.id, pk).read()) coll.documents.delete(e.id, pk);
      return;
    }
  }
}

/** The whole state of an account as effects that rebuild it from empty. */
export function* snapshotEffects(account: EmulatedAccount): Generator<Effect> {
  for (const database of account.databases._data.values()) {
    const dbBody = database.read();
    if (!dbBody) continue;
    const db = String(dbBody.id);
    yield { k: "db", body: dbBody };
    for (const collection of database.collections._data.values()) {
      const collBody = collection.read();
      if (!collBody) continue;
      const coll = String(collBody.id);
      yield { k: "coll", db, body: collBody };
      for (const document of collection.documents._data.values()) {
        const body = document.read();
        if (body) yield { k: "doc", db, coll, body };
      }
    }
  }
}
