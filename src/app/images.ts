// The images of a repository as one actor sees them: the storage's push/pull protocol
// (src/store/repository-local.ts) bounded by the actor's scopes, with every change recorded in the
// audit log under the actor's name.

import { formatImageRef } from '../core/names.ts';
import type { LocalRepository } from '../store/repository-local.ts';
import type { Repository } from '../store/repository.ts';
import { listAllImages } from '../store/repository.ts';
import type { Recorder } from './audit-trail.ts';
import type { Actor } from './session.ts';

export function imagesFor(repo: LocalRepository, actor: Actor, record: Recorder): Repository {
  const scopes = actor.readScopes ?? null;
  const images: Repository = {
    location: repo.location,
    chunking: () => Promise.resolve(repo.chunking),
    async beginUpload(ref, manifest) {
      const { id, missing, manifestDigest } = await repo.beginUpload(
        { user: actor.user, readScopes: scopes },
        ref,
        manifest,
      );
      await record('upload.begin', formatImageRef(ref), {
        upload: id,
        manifest: manifestDigest,
        missingChunks: missing.length,
      });
      return { id, missing };
    },
    putChunk: (id, digest, bytes) => repo.putChunk(id, digest, bytes),
    async commitUpload(id, meta) {
      const image = await repo.commitUpload(actor.user, id, meta);
      await record('image.push', formatImageRef(image), {
        digest: image.digest,
        size: image.size,
        upload: id,
      });
      return image;
    },
    ...(scopes === null
      ? {
          async storeFile(ref, file, meta, progress) {
            const stored = await repo.storeFile(actor.user, ref, file, meta, progress);
            await record('image.push', formatImageRef(ref), {
              digest: stored.image.digest,
              size: stored.image.size,
              newChunks: stored.newChunks,
            });
            return {
              image: stored.image,
              chunks: stored.chunks,
              uploadedChunks: stored.newChunks,
              uploadedBytes: stored.newBytes,
            };
          },
        }
      : {}),
    getImage: (ref) => repo.getImage(ref),
    readContent: (ref, digest, range) => repo.readContent(ref, digest, range),
    getManifest: (ref, digest) => repo.getManifest(ref, digest),
    listImages: () => listAllImages(images),
    listImagePage: (query) => repo.listImagePage(scopes, query),
    async tag(source, target) {
      const { image, previousDigest } = await repo.tag(actor.user, source, target);
      await record('image.tag', formatImageRef(target), {
        source: formatImageRef(source),
        digest: image.digest,
        previousDigest,
      });
      return image;
    },
    async removeTag(ref) {
      const previousDigest = await repo.removeTag(actor.user, ref);
      await record('image.remove', formatImageRef(ref), { digest: previousDigest });
    },
    tagHistory: (ref) => repo.tagHistory(ref),
    stats: () => repo.stats(),
    check: (progress) => repo.check(progress, scopes),
    async gc(progress) {
      const { report, abortedUploads } = await repo.gc(progress);
      await record('store.gc', null, { ...report, abortedUploads });
      return report;
    },
  };
  return images;
}
