// Every store's contract, run by each dialect's runner on its databases.

import { accountStoreContract } from '../auth/account-store.contract.ts';
import { auditLogContract } from '../audit/audit-log.contract.ts';
import { deploymentStoreContract } from '../deploy/deployment-store.contract.ts';
import { machineStoreContract } from '../machines/machine-store.contract.ts';
import { imageCatalogContract } from '../store/image-catalog.contract.ts';
import { storeTests, type DatabaseFactory } from './store-fixture.ts';

export function storeContracts(label: string, factory: DatabaseFactory): void {
  const storeTest = storeTests(label, factory);
  imageCatalogContract(storeTest);
  accountStoreContract(storeTest);
  auditLogContract(storeTest);
  machineStoreContract(storeTest);
  deploymentStoreContract(storeTest);
}
