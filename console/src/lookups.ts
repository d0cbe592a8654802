// Names for ids: the stores, shoppers, staff and checklists the caller may
// see, fetched once and shared by every screen that shows them.
import { useQuery } from "@connectrpc/connect-query";
import { OrgService, type Staff, type Store } from "./gen/shopscore/v1/org_pb";
import { ChecklistService, ChecklistVersionState, type ChecklistVersion } from "./gen/shopscore/v1/checklist_pb";
import type { User } from "./gen/shopscore/v1/auth_pb";
import { isEditor, isReader, useAuth } from "./auth";

export function useStores(): Map<string, Store> {
  const { user } = useAuth();
  const q = useQuery(OrgService.method.listStores, {}, { enabled: !!user, staleTime: 60_000 });
  return new Map((q.data?.stores ?? []).map((s) => [s.id, s]));
}

export function useStoreList(): Store[] {
  const { user } = useAuth();
  const q = useQuery(OrgService.method.listStores, {}, { enabled: !!user, staleTime: 60_000 });
  return q.data?.stores ?? [];
}

export function useShoppers(): Map<string, User> {
  const { user } = useAuth();
  const q = useQuery(OrgService.method.listShoppers, {}, { enabled: isEditor(user), staleTime: 60_000 });
  return new Map((q.data?.shoppers ?? []).map((s) => [s.id, s]));
}

export function useStaff(storeId?: string): Map<string, Staff> {
  const { user } = useAuth();
  const q = useQuery(OrgService.method.listStaff, { storeId: storeId ?? "" }, { enabled: isReader(user), staleTime: 60_000 });
  return new Map((q.data?.staff ?? []).map((s) => [s.id, s]));
}

export function useVersions(): ChecklistVersion[] {
  const { user } = useAuth();
  const q = useQuery(ChecklistService.method.listChecklists, {}, { enabled: !!user, staleTime: 30_000 });
  return q.data?.versions ?? [];
}

/** checklistName is "Name v3" for a checklist id and version. */
export function checklistName(versions: ChecklistVersion[], id: string, version: number): string {
  const v = versions.find((x) => x.checklistId === id && x.version === version) ?? versions.find((x) => x.checklistId === id);
  return (v?.name ?? id) + " v" + version;
}

export function storeLabel(stores: Map<string, Store>, id: string): string {
  const s = stores.get(id);
  return s ? s.code + " · " + s.name : "—";
}

export function published(versions: ChecklistVersion[]): ChecklistVersion[] {
  return versions.filter((v) => v.state === ChecklistVersionState.PUBLISHED);
}
