/** Items federated nodes reconcile: defined in the store, which keeps them (store/recon-items.ts). */
export {
  hashed,
  ITEM_HASH_BYTES,
  itemHash,
  mergeIncoming,
  type HashedItem,
  type IncomingAction,
  type ItemKind,
  type LocalState,
  type ReconItem,
} from '../store/recon-items.ts';
