import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // node-postgres optionally requires pg-native; keep it a plain Node require instead of bundling it.
  serverExternalPackages: ['pg'],
  poweredByHeader: false,
  // The dashboard runs on plant networks without internet: nothing may phone home.
  images: { unoptimized: true },
};

export default nextConfig;
